#include "daemon_process.hpp"

#include <date/date.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace nursery::it {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Variables a service manager sets for the process it starts; a test sets
// them itself when it means to, never by inheriting them from whoever ran it.
constexpr std::string_view kManagerVariables[] = {
    "NOTIFY_SOCKET",           "WATCHDOG_USEC",   "WATCHDOG_PID",
    "JOURNAL_STREAM",          "LISTEN_FDS",      "LISTEN_PID",
    "LISTEN_FDNAMES",          "STATE_DIRECTORY", "RUNTIME_DIRECTORY",
    "CONFIGURATION_DIRECTORY", "INVOCATION_ID"};

std::vector<std::string> child_environment(const Environment& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool dropped = false;
    for (auto v : kManagerVariables) dropped = dropped || v == name;
    for (const auto& [key, value] : extra) dropped = dropped || key == name;
    if (!dropped) out.emplace_back(entry);
  }
  for (const auto& [key, value] : extra) out.push_back(key + "=" + value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Spawns argv[0] with stdin from /dev/null, stdout to `out_file` and stderr
// to `err_file` (the same file when they are equal). Throws on failure.
pid_t spawn(std::vector<std::string> argv, const Environment& env, const fs::path& out_file,
            const fs::path& err_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  constexpr int kFlags = O_WRONLY | O_CREAT | O_APPEND;
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), kFlags, 0644);
  if (err_file == out_file)
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  else
    posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), kFlags, 0644);

  // The daemon must see the signals a service manager sends as the default
  // actions it then overrides, whatever the test runner blocked or ignored.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGHUP, SIGINT, SIGTERM}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> envp_strings = child_environment(env);
  auto args = c_strings(argv);
  auto envp = c_strings(envp_strings);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  return pid;
}

ExitStatus decode(int wstatus) {
  ExitStatus s;
  if (WIFEXITED(wstatus)) {
    s.exited = true;
    s.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    s.signal = WTERMSIG(wstatus);
  }
  return s;
}

// Reaps `pid` if it has exited within `timeout`.
std::optional<ExitStatus> reap(pid_t pid, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int wstatus = 0;
    pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return decode(wstatus);
    if (r < 0 && errno != EINTR) return ExitStatus{false, 0, 0};  // not ours any more
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(2ms);
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path unused_path(const fs::path& dir, std::string_view stem, std::string_view ext) {
  for (int i = 0;; ++i) {
    fs::path p = dir / fmt::format("{}-{}.{}", stem, i, ext);
    if (!fs::exists(p)) return p;
  }
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

namespace {
fs::path from_env_or(const char* variable, const char* built) {
  const char* v = std::getenv(variable);
  return v && *v ? fs::path(v) : fs::path(built);
}
}  // namespace

fs::path nurseryd_path() { return from_env_or("NURSERY_IT_NURSERYD", NURSERYD_PATH); }
fs::path nurseryctl_path() { return from_env_or("NURSERY_IT_NURSERYCTL", NURSERYCTL_PATH); }

// --- configuration ---------------------------------------------------------

std::string to_toml(const HubSpec& spec) {
  std::string out;
  out += fmt::format("[hub]\nname = {}\ntime_zone = {}\n\n", toml_string(spec.name),
                     toml_string(spec.time_zone));
  std::string default_routine = spec.default_routine;
  if (default_routine.empty() && !spec.routines.empty()) default_routine = spec.routines[0].id;
  out += "[[rooms]]\nid = \"nursery\"\nname = \"Nursery\"\n";
  if (!default_routine.empty())
    out += fmt::format("default_routine = {}\n", toml_string(default_routine));
  const char* native = spec.native_transitions ? "true" : "false";
  for (auto [id, name, kind] : {std::array<const char*, 3>{"night-light", "Night light", "light"},
                                std::array<const char*, 3>{"sound", "Sound machine", "sound"},
                                std::array<const char*, 3>{"massager", "Massager", "massager"}})
    out += fmt::format(
        "\n[[devices]]\nid = \"{}\"\nname = \"{}\"\nroom = \"nursery\"\ndriver = \"simulated\"\n"
        "kind = \"{}\"\nnative_transition = {}\n",
        id, name, kind, native);
  for (const auto& routine : spec.routines) {
    out += fmt::format("\n[[routines]]\nid = {}\nkind = {}\n", toml_string(routine.id),
                       toml_string(routine.kind));
    for (const auto& step : routine.steps) {
      out += fmt::format("\n  [[routines.steps]]\n  at = \"{}s\"\n  role = {}\n  fade = \"{}s\"\n",
                         step.at_s, toml_string(step.role), step.fade_s);
      for (const auto& v : step.values) out += "  " + v + "\n";
    }
  }
  return out;
}

// --- a directory per test ---------------------------------------------------

TestHome::TestHome() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/nurseryd-it-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  // A socket path must fit in sockaddr_un (108 bytes); a long TMPDIR would not.
  if (pattern.size() > 60) pattern = "/tmp/nurseryd-it-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
  dir_ = pattern;
  fs::create_directory(state_dir());
  fs::create_directory(runtime_dir());
}

TestHome::~TestHome() {
  if (std::getenv("NURSERY_IT_KEEP")) {
    std::fprintf(stderr, "kept %s\n", dir_.c_str());
    return;
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

void TestHome::write_config(std::string_view toml) const { write_file("nurseryd.toml", toml); }

fs::path TestHome::write_file(std::string_view name, std::string_view text) const {
  fs::path p = dir_ / name;
  // Written beside and renamed, so a daemon reading it on SIGHUP never sees half.
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, p);
  return p;
}

// --- systemd's side of sd_notify() -------------------------------------------

bool NotifyMessage::has(std::string_view assignment) const {
  std::string_view rest(text);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    if (rest.substr(0, nl) == assignment) return true;
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return false;
}

std::optional<std::string> NotifyMessage::value(std::string_view key) const {
  std::string_view rest(text);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=')
      return std::string(line.substr(key.size() + 1));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

NotifySocket::NotifySocket(const fs::path& path) : path_(path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof(addr.sun_path))
    throw std::runtime_error("notify socket path too long: " + path.string());
  std::memcpy(addr.sun_path, path.c_str(), path.native().size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  ::unlink(path.c_str());
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd_);
    throw std::runtime_error(fmt::format("bind {}: {}", path.string(), std::strerror(e)));
  }
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

std::optional<NotifyMessage> NotifySocket::next(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::max<Millis::rep>(0, left.count())));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    std::array<char, 4096> buffer{};
    ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return std::nullopt;
    }
    NotifyMessage m{Clock::now(), std::string(buffer.data(), static_cast<std::size_t>(n))};
    received_.push_back(m);
    return m;
  }
}

std::optional<NotifyMessage> NotifySocket::wait_for(std::string_view assignment, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto m = next(std::chrono::duration_cast<Millis>(deadline - Clock::now()));
    if (!m) return std::nullopt;
    if (m->has(assignment)) return m;
  }
  return std::nullopt;
}

std::string NotifySocket::describe_received() const {
  if (received_.empty()) return "(no notification received)";
  std::string out;
  for (const auto& m : received_) {
    std::string one = m.text;
    for (auto& c : one)
      if (c == '\n') c = '|';
    out += "  " + one + "\n";
  }
  return out;
}

// --- child processes -----------------------------------------------------------

std::string ExitStatus::describe() const {
  if (exited) return fmt::format("exited with status {}", code);
  if (signal) return fmt::format("killed by signal {} ({})", signal, strsignal(signal));
  return "gone (not a child of this test any more)";
}

std::string ProgramResult::describe() const {
  return fmt::format("{}\n--- stdout ---\n{}--- stderr ---\n{}",
                     status ? status->describe() : "did not finish in time (killed)", out, err);
}

ProgramResult run_program(const std::vector<std::string>& argv, const fs::path& scratch_dir,
                          const Environment& env, Millis timeout) {
  const fs::path out_file = unused_path(scratch_dir, "program", "out");
  const fs::path err_file = unused_path(scratch_dir, "program", "err");
  std::ofstream{out_file};
  std::ofstream{err_file};
  pid_t pid = spawn(argv, env, out_file, err_file);
  ProgramResult result;
  result.status = reap(pid, timeout);
  if (!result.status) {
    ::kill(pid, SIGKILL);
    reap(pid, 10s);
  }
  result.out = read_file(out_file);
  result.err = read_file(err_file);
  return result;
}

DaemonProcess::DaemonProcess(const TestHome& home) : home_(home) {}

DaemonProcess::~DaemonProcess() {
  client_.reset();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int wstatus = 0;
    while (::waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }
}

::testing::AssertionResult DaemonProcess::start(const DaemonOptions& options) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "nurseryd is already running";
  client_.reset();
  std::vector<std::string> argv;
  if (options.watchdog_pid_is_self) {
    argv = {"/bin/sh", "-c", "WATCHDOG_PID=$$; export WATCHDOG_PID; exec \"$0\" \"$@\""};
  }
  argv.push_back(nurseryd_path().string());
  for (const auto& a :
       {std::string("--config"), home_.config_file().string(), std::string("--state-dir"),
        home_.state_dir().string(), std::string("--runtime-dir"), home_.runtime_dir().string()})
    argv.push_back(a);
  for (const auto& a : options.args) argv.push_back(a);
  fs::path log = home_.dir() / fmt::format("nurseryd-{}.log", ++starts_);
  std::ofstream{log};
  logs_.push_back(log);
  try {
    spawned_at_ = Clock::now();
    pid_ = spawn(argv, options.env, log, log);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << e.what();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DaemonProcess::wait_until_answering(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last_error = "no attempt";
  while (Clock::now() < deadline) {
    if (!running())
      return ::testing::AssertionFailure()
             << "nurseryd stopped before its control socket answered: "
             << (last_exit_ ? last_exit_->describe() : "?") << "\n--- its log ---\n"
             << log();
    ControlClient probe(home_.socket(), 500ms);
    auto r = probe.request("GET", "/api/v1/status");
    if (r && r->status == 200) return ::testing::AssertionSuccess();
    last_error = r ? fmt::format("HTTP {}", r->status) : r.error().message;
    std::this_thread::sleep_for(10ms);
  }
  return ::testing::AssertionFailure()
         << "nurseryd's control socket " << home_.socket() << " did not answer within "
         << timeout.count() << " ms (last: " << last_error << ")\n--- its log ---\n"
         << log();
}

::testing::AssertionResult DaemonProcess::start_and_wait(const DaemonOptions& options) {
  auto started = start(options);
  if (!started) return started;
  return wait_until_answering();
}

bool DaemonProcess::running() {
  if (pid_ <= 0) return false;
  if (auto s = reap(pid_, 0ms)) {
    last_exit_ = s;
    pid_ = -1;
    return false;
  }
  return true;
}

bool DaemonProcess::signal(int sig) {
  if (!running()) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<ExitStatus> DaemonProcess::wait_exit(Millis timeout) {
  if (pid_ <= 0) return last_exit_;
  auto s = reap(pid_, timeout);
  if (!s) return std::nullopt;
  last_exit_ = s;
  pid_ = -1;
  client_.reset();
  return s;
}

::testing::AssertionResult DaemonProcess::kill_hard() {
  if (!signal(SIGKILL))
    return ::testing::AssertionFailure()
           << "nurseryd was not running when it was to be killed: "
           << (last_exit_ ? last_exit_->describe() : "never started") << "\n--- its log ---\n"
           << log();
  auto s = wait_exit(10s);
  if (!s) return ::testing::AssertionFailure() << "nurseryd survived SIGKILL for 10 s";
  if (s->signal != SIGKILL)
    return ::testing::AssertionFailure() << "nurseryd " << s->describe() << " before SIGKILL";
  return ::testing::AssertionSuccess();
}

std::string DaemonProcess::log() const { return logs_.empty() ? "" : read_file(logs_.back()); }

std::string DaemonProcess::all_logs() const {
  std::string out;
  for (std::size_t i = 0; i < logs_.size(); ++i)
    out += fmt::format("--- start {} ---\n{}", i + 1, read_file(logs_[i]));
  return out;
}

::testing::AssertionResult DaemonProcess::wait_for_log(std::string_view needle, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (log().find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline)
      return ::testing::AssertionFailure() << "nurseryd did not log \"" << needle << "\" within "
                                           << timeout.count() << " ms\n--- its log ---\n"
                                           << log();
    std::this_thread::sleep_for(10ms);
  }
}

ControlClient& DaemonProcess::client() {
  if (!client_) client_ = std::make_unique<ControlClient>(home_.socket(), 5s);
  return *client_;
}

// --- the control API, for assertions ------------------------------------------

namespace {

ControlResponse checked(DaemonProcess& daemon, Expected<ControlResponse> r, std::string_view method,
                        std::string_view target) {
  if (r) return std::move(*r);
  ADD_FAILURE() << method << " " << target << " failed: " << r.error().message
                << "\n--- nurseryd's log ---\n"
                << daemon.log();
  return ControlResponse{};  // status 0
}

}  // namespace

ControlResponse api(DaemonProcess& daemon, std::string_view method, std::string_view target,
                    std::optional<nlohmann::json> body) {
  return checked(daemon, daemon.client().request(method, target, std::move(body)), method, target);
}

ControlResponse api_raw(DaemonProcess& daemon, std::string_view method, std::string_view target,
                        std::string body) {
  return checked(daemon, daemon.client().request_raw(method, target, std::move(body)), method,
                 target);
}

ControlResponse routine_request(DaemonProcess& daemon, std::string_view action,
                                std::optional<std::string> routine, std::string_view room) {
  nlohmann::json body{{"action", action}};
  if (routine) body["routine"] = *routine;
  return api(daemon, "POST", fmt::format("/api/v1/rooms/{}/routine", room), std::move(body));
}

nlohmann::json status_of(DaemonProcess& daemon) {
  auto r = api(daemon, "GET", "/api/v1/status");
  EXPECT_EQ(r.status, 200) << r.body.dump();
  return r.body;
}

nlohmann::json runs_of(DaemonProcess& daemon) {
  auto r = api(daemon, "GET", "/api/v1/runs");
  EXPECT_EQ(r.status, 200) << r.body.dump();
  if (!r.body.is_object() || !r.body.contains("runs")) return nlohmann::json::array();
  return r.body["runs"];
}

nlohmann::json room_routine(const nlohmann::json& status, std::string_view room) {
  if (status.is_object() && status.contains("rooms"))
    for (const auto& r : status["rooms"])
      if (r.value("id", "") == room) return r.value("routine", nlohmann::json());
  return nullptr;
}

nlohmann::json device_in(const nlohmann::json& status, std::string_view id, std::string_view room) {
  if (status.is_object() && status.contains("rooms"))
    for (const auto& r : status["rooms"])
      if (r.value("id", "") == room && r.contains("devices"))
        for (const auto& d : r["devices"])
          if (d.value("id", "") == id) return d;
  return nullptr;
}

std::optional<std::chrono::milliseconds> parse_utc(const std::string& iso) {
  std::istringstream in(iso);
  date::sys_time<std::chrono::milliseconds> t;
  in >> date::parse("%FT%TZ", t);
  if (in.fail()) return std::nullopt;
  return t.time_since_epoch();
}

}  // namespace nursery::it
