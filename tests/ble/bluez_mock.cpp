#include "tests/ble/bluez_mock.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace nursery::bletest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kMockInterface = "org.nursery.BluezMock";
constexpr const char* kDbusMock = "org.freedesktop.DBus.Mock";
constexpr auto kCallTimeout = 10s;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tail(const std::string& text, std::size_t n = 4000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// posix_spawn with stdin from /dev/null, stdout to `out_fd` (or a file) and
// stderr to `err_file`; the environment is ours plus `extra`.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            int out_fd, const fs::path& out_file, const fs::path& err_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  constexpr int kFlags = O_WRONLY | O_CREAT | O_APPEND;
  if (out_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  else
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), kFlags, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), kFlags, 0644);

  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& x : extra_env) replaced = replaced || x.substr(0, x.find('=')) == name;
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> args, envp;
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Waits for our child `pid` to exit; true if it did within `timeout`.
bool reap(pid_t pid, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
}

// SIGTERM, a generous wait, then SIGKILL: only to a pid we started.
void stop_child(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  if (reap(pid, 10s)) return;
  ::kill(pid, SIGKILL);
  reap(pid, 10s);
}

fs::path make_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/nursery-ble-XXXXXX";
  if (pattern.size() > 60) pattern = "/tmp/nursery-ble-XXXXXX";  // sockets must fit sun_path
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  return pattern;
}

std::string mock_module() {
  const char* override_path = std::getenv("NURSERY_BLUEZ_MOCK_PY");
  return override_path && *override_path ? override_path : NURSERY_BLUEZ_MOCK_PY;
}

}  // namespace

Bytes bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

std::chrono::steady_clock::time_point MockRecord::at() const {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(t)));
}

std::chrono::steady_clock::time_point MockRecord::replied_at() const {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(replied)));
}

// --- the bus -------------------------------------------------------------------

BusDaemon::BusDaemon(const fs::path& log_file, const std::string& socket) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  // --nofork keeps the daemon our child, so it is reaped by us.
  std::vector<std::string> argv = {"/usr/bin/dbus-daemon", "--session", "--nofork",
                                   "--print-address=1"};
  if (!socket.empty()) argv.push_back("--address=unix:path=" + socket);
  try {
    pid_ = spawn(argv, {}, pipe_fds[1], {}, log_file);
  } catch (...) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw;
  }
  ::close(pipe_fds[1]);
  std::string line;
  const auto deadline = Clock::now() + 10s;
  while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (line.find('\n') == std::string::npos) {
    stop_child(pid_);
    throw std::runtime_error("dbus-daemon printed no address: " + read_text(log_file));
  }
  address_ = line.substr(0, line.find('\n'));
}

BusDaemon::~BusDaemon() { stop_child(pid_); }

// --- a D-Bus client of the mock ------------------------------------------------

class BluezMock::Client {
 public:
  explicit Client(const std::string& address)
      : connection_(sdbus::createSessionBusConnectionWithAddress(address)),
        bluez_(sdbus::createProxy(*connection_, "org.bluez", "/")),
        bus_(sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus")) {}

  sdbus::IProxy& bluez() { return *bluez_; }

  bool has_bluez() {
    bool has = false;
    bus_->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withTimeout(kCallTimeout)
        .withArguments(std::string("org.bluez"))
        .storeResultsTo(has);
    return has;
  }

 private:
  std::unique_ptr<sdbus::IConnection> connection_;
  std::unique_ptr<sdbus::IProxy> bluez_;
  std::unique_ptr<sdbus::IProxy> bus_;
};

// --- the mock -------------------------------------------------------------------

BluezMock::BluezMock() : BluezMock(Options{}) {}

BluezMock::BluezMock(Options options) : options_(std::move(options)), dir_(make_dir()) {
  try {
    if (options_.start_bus) start_bus();
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

void BluezMock::start_bus(const std::string& socket) {
  if (bus_) return;
  bus_ =
      std::make_unique<BusDaemon>(dir_ / "bus.log", socket.empty() ? options_.bus_socket : socket);
  client_ = std::make_unique<Client>(bus_->address());
  for (const auto& name : options_.adapters) adapters_.push_back(name);
  if (options_.start_bluez) start_bluez();
}

BluezMock::~BluezMock() {
  stop_child(bluez_pid_);
  client_.reset();
  bus_.reset();
  if (!std::getenv("NURSERY_BLE_KEEP")) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

const std::string& BluezMock::bus_address() const {
  static const std::string kNone;
  return bus_ ? bus_->address() : kNone;
}

std::string BluezMock::log() const {
  if (bluez_log_.empty()) return "(bluetoothd mock never started)";
  return tail(read_text(bluez_log_));
}

void BluezMock::wait_for_name(bool present, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (client_->has_bluez() == present) return;
    if (present && bluez_pid_ > 0) {
      int status = 0;
      if (::waitpid(bluez_pid_, &status, WNOHANG) == bluez_pid_) {
        bluez_pid_ = -1;
        throw std::runtime_error("the BlueZ mock exited at start: " + log());
      }
    }
    if (Clock::now() >= deadline)
      throw std::runtime_error(std::string("org.bluez did not ") + (present ? "appear" : "leave") +
                               " within the deadline: " + log());
    std::this_thread::sleep_for(10ms);
  }
}

void BluezMock::start_bluez() {
  if (!bus_) throw std::runtime_error("start_bluez: the bus is not started");
  if (bluez_pid_ > 0) return;
  ++starts_;
  bluez_log_ = dir_ / ("bluez-" + std::to_string(starts_) + ".log");
  const fs::path calls = dir_ / ("bluez-" + std::to_string(starts_) + ".calls");
  bluez_pid_ =
      spawn({"/usr/bin/python3", "-m", "dbusmock", "--template", "bluez5", "-l", calls.string()},
            {"DBUS_SYSTEM_BUS_ADDRESS=" + bus_->address()}, -1, bluez_log_, bluez_log_);
  wait_for_name(true, 20'000ms);
  try {
    client_->bluez()
        .callMethod("AddTemplate")
        .onInterface(kDbusMock)
        .withTimeout(kCallTimeout)
        .withArguments(mock_module(), std::map<std::string, sdbus::Variant>{});
    if (advertise_interval_)
      client_->bluez()
          .callMethod("SetAdvertiseInterval")
          .onInterface(kMockInterface)
          .withTimeout(kCallTimeout)
          .withArguments(static_cast<std::uint32_t>(advertise_interval_->count()));
    for (const auto& code : python_)
      client_->bluez()
          .callMethod("ExecPython")
          .onInterface(kMockInterface)
          .withTimeout(kCallTimeout)
          .withArguments(code);
    for (const auto& name : adapters_)
      client_->bluez()
          .callMethod("AddLeAdapter")
          .onInterface(kMockInterface)
          .withTimeout(kCallTimeout)
          .withArguments(name);
    for (const auto& spec : devices_) create_device(spec, starts_ > 1);
    for (const auto& hook : hooks_)
      client_->bluez()
          .callMethod(hook.write ? "SetWriteHook" : "SetReadHook")
          .onInterface(kMockInterface)
          .withTimeout(kCallTimeout)
          .withArguments(hook.address, hook.uuid, hook.python);
    for (const auto& d : delays_)
      client_->bluez()
          .callMethod("SetGattReplyDelay")
          .onInterface(kMockInterface)
          .withTimeout(kCallTimeout)
          .withArguments(d.address, d.uuid, static_cast<std::uint32_t>(d.delay.count()));
  } catch (const sdbus::Error& e) {
    throw std::runtime_error("setting up the BlueZ mock failed: " + e.getName() + ": " +
                             e.getMessage() + "\n" + log());
  }
}

void BluezMock::stop_bluez() {
  if (bluez_pid_ <= 0) return;
  stop_child(bluez_pid_);
  bluez_pid_ = -1;
  wait_for_name(false, 10'000ms);
}

void BluezMock::restart_bluez() {
  stop_bluez();
  start_bluez();
}

namespace {

// A synchronous call to org.nursery.BluezMock that turns refusals into
// exceptions carrying the mock's output.
template <typename... Args>
void mock_call(sdbus::IProxy& proxy, const std::string& method, const std::string& log,
               const Args&... args) {
  try {
    proxy.callMethod(method)
        .onInterface(kMockInterface)
        .withTimeout(kCallTimeout)
        .withArguments(args...);
  } catch (const sdbus::Error& e) {
    throw std::runtime_error(method + " failed: " + e.getName() + ": " + e.getMessage() + "\n" +
                             log);
  }
}

}  // namespace

void BluezMock::add_adapter(const std::string& name) {
  adapters_.push_back(name);
  if (bluez_running()) mock_call(client_->bluez(), "AddLeAdapter", log(), name);
}

std::string BluezMock::add_device(const DeviceSpec& spec) {
  devices_.push_back(spec);
  if (bluez_running()) create_device(spec, false);
  return device_path(spec.address);
}

void BluezMock::create_device(const DeviceSpec& spec, bool as_restarted) {
  std::map<std::string, sdbus::Variant> options;
  options["known"] = sdbus::Variant(spec.known);
  options["advertising"] = sdbus::Variant(spec.advertising);
  // bluetoothd restarting drops every connection.
  options["connected"] = sdbus::Variant(spec.connected && !as_restarted);
  options["rssi"] = sdbus::Variant(static_cast<std::int16_t>(spec.rssi));
  options["uuids"] = sdbus::Variant(spec.advertised_uuids);
  std::map<std::uint16_t, sdbus::Variant> manufacturer;
  for (const auto& [id, data] : spec.manufacturer_data) manufacturer[id] = sdbus::Variant(data);
  options["manufacturer"] = sdbus::Variant(manufacturer);
  mock_call(client_->bluez(), "AddLeDevice", log(), spec.adapter, spec.address, spec.name, options);
  for (const auto& service : spec.services) {
    mock_call(client_->bluez(), "AddGattService", log(), spec.address, service.uuid);
    for (const auto& ch : service.characteristics)
      mock_call(client_->bluez(), "AddGattCharacteristic", log(), spec.address, service.uuid,
                ch.uuid, ch.flags, ch.value);
  }
  if (spec.battery)
    mock_call(client_->bluez(), "SetBattery", log(), spec.address,
              static_cast<std::uint8_t>(*spec.battery));
}

void BluezMock::remove_device(const std::string& address) {
  mock_call(client_->bluez(), "RemoveLeDevice", log(), address);
}

void BluezMock::restore_device(const std::string& address) {
  mock_call(client_->bluez(), "RestoreLeDevice", log(), address);
}

std::string BluezMock::device_path(const std::string& address) const {
  std::string adapter = "hci0";
  for (const auto& d : devices_)
    if (d.address == address) adapter = d.adapter;
  std::string name = address;
  for (char& c : name) c = c == ':' ? '_' : static_cast<char>(std::toupper(c));
  return "/org/bluez/" + adapter + "/dev_" + name;
}

void BluezMock::fail_connect(const std::string& address, const std::string& error_name,
                             const std::string& message, int times) {
  mock_call(client_->bluez(), "FailConnect", log(), address, error_name, message,
            static_cast<std::int32_t>(times));
}

void BluezMock::set_connect_timing(const std::string& address, milliseconds connect,
                                   milliseconds resolve) {
  std::map<std::string, sdbus::Variant> b;
  b["connect_delay_ms"] = sdbus::Variant(static_cast<std::uint32_t>(connect.count()));
  b["resolve_delay_ms"] = sdbus::Variant(static_cast<std::uint32_t>(resolve.count()));
  mock_call(client_->bluez(), "SetDeviceBehaviour", log(), address, b);
}

void BluezMock::set_connect_silent(const std::string& address, bool silent) {
  std::map<std::string, sdbus::Variant> b{{"connect_silent", sdbus::Variant(silent)}};
  mock_call(client_->bluez(), "SetDeviceBehaviour", log(), address, b);
}

void BluezMock::set_gatt_silent(const std::string& address, bool silent) {
  std::map<std::string, sdbus::Variant> b{{"gatt_silent", sdbus::Variant(silent)}};
  mock_call(client_->bluez(), "SetDeviceBehaviour", log(), address, b);
}

void BluezMock::set_advertising(const std::string& address, bool advertising) {
  std::map<std::string, sdbus::Variant> b{{"advertising", sdbus::Variant(advertising)}};
  mock_call(client_->bluez(), "SetDeviceBehaviour", log(), address, b);
}

void BluezMock::fail_gatt(const std::string& address, const std::string& uuid,
                          const std::string& method, const std::string& error_name,
                          const std::string& message, int times) {
  mock_call(client_->bluez(), "FailGatt", log(), address, uuid, method, error_name, message,
            static_cast<std::int32_t>(times));
}

void BluezMock::set_reply_delay(const std::string& address, const std::string& uuid,
                                milliseconds delay) {
  delays_.push_back({address, uuid, delay});
  if (bluez_running())
    mock_call(client_->bluez(), "SetGattReplyDelay", log(), address, uuid,
              static_cast<std::uint32_t>(delay.count()));
}

void BluezMock::on_write(const std::string& address, const std::string& uuid,
                         const std::string& python) {
  hooks_.push_back({address, uuid, python, true});
  if (bluez_running()) mock_call(client_->bluez(), "SetWriteHook", log(), address, uuid, python);
}

void BluezMock::on_read(const std::string& address, const std::string& uuid,
                        const std::string& python) {
  hooks_.push_back({address, uuid, python, false});
  if (bluez_running()) mock_call(client_->bluez(), "SetReadHook", log(), address, uuid, python);
}

void BluezMock::exec_python(const std::string& code) {
  python_.push_back(code);
  if (bluez_running()) mock_call(client_->bluez(), "ExecPython", log(), code);
}

void BluezMock::notify(const std::string& address, const std::string& uuid, const Bytes& value,
                       milliseconds delay) {
  mock_call(client_->bluez(), "Notify", log(), address, uuid, value,
            static_cast<std::uint32_t>(delay.count()));
}

void BluezMock::set_value(const std::string& address, const std::string& uuid, const Bytes& value) {
  mock_call(client_->bluez(), "SetValue", log(), address, uuid, value);
}

void BluezMock::drop_link(const std::string& address) {
  mock_call(client_->bluez(), "DropLink", log(), address);
}

void BluezMock::set_battery(const std::string& address, int percent) {
  for (auto& d : devices_)
    if (d.address == address) d.battery = percent;
  mock_call(client_->bluez(), "SetBattery", log(), address, static_cast<std::uint8_t>(percent));
}

void BluezMock::set_advertise_interval(milliseconds interval) {
  advertise_interval_ = interval;
  if (bluez_running())
    mock_call(client_->bluez(), "SetAdvertiseInterval", log(),
              static_cast<std::uint32_t>(interval.count()));
}

std::vector<MockRecord> BluezMock::records() const {
  using Row = sdbus::Struct<double, std::string, std::string, std::string, std::string,
                            std::vector<std::uint8_t>, double, std::string>;
  std::vector<Row> rows;
  try {
    client_->bluez()
        .callMethod("GetRecords")
        .onInterface(kMockInterface)
        .withTimeout(kCallTimeout)
        .storeResultsTo(rows);
  } catch (const sdbus::Error& e) {
    throw std::runtime_error("GetRecords failed: " + e.getName() + ": " + e.getMessage() + "\n" +
                             log());
  }
  std::vector<MockRecord> out;
  out.reserve(rows.size());
  for (auto& r : rows)
    out.push_back(MockRecord{r.get<0>(), r.get<1>(), r.get<2>(), r.get<3>(), r.get<4>(), r.get<5>(),
                             r.get<6>(), r.get<7>()});
  return out;
}

std::vector<MockRecord> BluezMock::calls(std::string_view method, std::string_view address) const {
  const std::string prefix = address.empty() ? "" : device_path(std::string(address));
  std::vector<MockRecord> out;
  for (auto& r : records()) {
    if (r.method != method) continue;
    if (!prefix.empty() && r.path != prefix && r.path.rfind(prefix + "/", 0) != 0) continue;
    out.push_back(std::move(r));
  }
  return out;
}

void BluezMock::clear_records() { mock_call(client_->bluez(), "ClearRecords", log()); }

}  // namespace nursery::bletest
