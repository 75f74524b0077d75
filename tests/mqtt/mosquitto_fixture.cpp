#include "mosquitto_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace nursery::mqtt::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
constexpr const char* kMosquittoPasswd = "/usr/bin/mosquitto_passwd";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

fs::path make_temp_dir(std::string_view stem) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/{}-XXXXXX", tmp && *tmp ? tmp : "/tmp", stem);
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
  // Readable to a broker run as another user than the test (a config
  // that names a `user`), for the password file and certificates.
  ::chmod(pattern.c_str(), 0755);
  return pattern;
}

// A port nobody listens on now. Another process could take it before the
// broker binds it; start() then tries another.
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot find a free port: {}", std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& output) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, c_args[0], &actions, nullptr, c_args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  return pid;
}

// Like spawn(), for the broker: it gets SIGKILL when the thread that started
// it dies, so that a test that crashes leaves no broker behind. Between fork
// and exec only async-signal-safe calls are made.
pid_t spawn_bound_to_parent(const std::vector<std::string>& argv, const fs::path& output) {
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(c_args[0], c_args.data(), environ);
    ::_exit(127);
  }
  return pid;
}

// Reaps `pid` if it exits within `timeout`; the wait status, or nullopt.
std::optional<int> reap(pid_t pid, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return 0;  // not our child any more
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(2ms);
  }
}

void init_libmosquitto_once() {
  static std::once_flag once;
  std::call_once(once, [] { ::mosquitto_lib_init(); });
}

}  // namespace

// --- Mosquitto ------------------------------------------------------------------

Mosquitto::Mosquitto(BrokerConfig config)
    : config_(std::move(config)), dir_(make_temp_dir("nursery-mqtt")) {}

Mosquitto::~Mosquitto() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(pid_, 5s);
  }
  std::error_code ec;
  if (!std::getenv("NURSERY_MQTT_KEEP")) fs::remove_all(dir_, ec);
}

std::string Mosquitto::uri() const {
  const bool tls = std::any_of(config_.listener_lines.begin(), config_.listener_lines.end(),
                               [](const std::string& l) { return l.rfind("certfile", 0) == 0; });
  return fmt::format("{}://127.0.0.1:{}", tls ? "ssl" : "tcp", port_);
}

void Mosquitto::set_users(std::vector<BrokerUser> users) { config_.users = std::move(users); }

void Mosquitto::write_config() const {
  std::string conf = fmt::format("listener {} 127.0.0.1\n", port_);
  for (const auto& line : config_.listener_lines) conf += line + "\n";
  conf += fmt::format("allow_anonymous {}\n", config_.allow_anonymous ? "true" : "false");
  // Started as root, mosquitto would drop to its own user, and a change of
  // user clears the parent-death signal that ends it with a crashed test.
  if (::geteuid() == 0) conf += "user root\n";
  conf +=
      "persistence false\n"
      "set_tcp_nodelay true\n"
      "log_dest stderr\n"
      "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
      "connection_messages true\n";
  if (!config_.users.empty()) {
    const fs::path passwords = dir_ / "passwords";
    fs::remove(passwords);
    write_text(passwords, "");
    for (const auto& user : config_.users) {
      std::string out;
      if (run_command({kMosquittoPasswd, "-b", passwords.string(), user.name, user.password},
                      &out) != 0)
        throw std::runtime_error(fmt::format("mosquitto_passwd failed: {}", out));
    }
    ::chmod(passwords.c_str(), 0644);
    conf += fmt::format("password_file {}\n", passwords.string());
  }
  write_text(dir_ / "mosquitto.conf", conf);
}

::testing::AssertionResult Mosquitto::start(Millis timeout) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "mosquitto is already running";
  if (port_ != 0) return start_on(port_, timeout);
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    auto started = start_on(port_, timeout);
    if (started) return started;
    if (log().find("Address already in use") == std::string::npos) return started;
  }
  return ::testing::AssertionFailure() << "mosquitto found no free port in 5 tries\n" << log();
}

::testing::AssertionResult Mosquitto::start_on(int port, Millis timeout) {
  port_ = port;
  write_config();
  pid_ = spawn_bound_to_parent({kMosquitto, "-c", (dir_ / "mosquitto.conf").string()},
                               dir_ / "mosquitto.log");
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return ::testing::AssertionFailure()
             << "mosquitto exited at start (status " << status << "):\n"
             << log();
    }
    if (accepts_connections(port_)) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline)
      return ::testing::AssertionFailure() << "mosquitto did not accept connections on port "
                                           << port_ << " within " << timeout.count() << " ms:\n"
                                           << log();
    std::this_thread::sleep_for(5ms);
  }
}

::testing::AssertionResult Mosquitto::stop(Millis timeout) {
  if (pid_ <= 0) return ::testing::AssertionFailure() << "mosquitto is not running";
  ::kill(pid_, SIGTERM);
  if (!reap(pid_, timeout)) {
    ::kill(pid_, SIGKILL);
    reap(pid_, 5s);
  }
  pid_ = -1;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Mosquitto::kill_hard() {
  if (pid_ <= 0) return ::testing::AssertionFailure() << "mosquitto is not running";
  ::kill(pid_, SIGKILL);
  reap(pid_, 5s);
  pid_ = -1;
  return ::testing::AssertionSuccess();
}

bool Mosquitto::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
  return pid_ > 0;
}

std::string Mosquitto::log() const { return read_text(dir_ / "mosquitto.log"); }

::testing::AssertionResult Mosquitto::wait_for_log(std::string_view needle, Millis timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (log().find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline)
      return ::testing::AssertionFailure()
             << "mosquitto did not log \"" << needle << "\" within " << timeout.count() << " ms:\n"
             << log();
    std::this_thread::sleep_for(5ms);
  }
}

// --- TestClient -----------------------------------------------------------------

TestClient::TestClient(int port, TestClientOptions options)
    : port_(port), options_(std::move(options)) {
  init_libmosquitto_once();
  if (options_.client_id.empty())
    options_.client_id =
        fmt::format("test-{}-{}", ::getpid(), reinterpret_cast<std::uintptr_t>(this));
  mosq_ = ::mosquitto_new(options_.client_id.c_str(), true, this);
  if (!mosq_) throw std::runtime_error("mosquitto_new failed");
  ::mosquitto_connect_callback_set(mosq_, &TestClient::on_connect);
  ::mosquitto_disconnect_callback_set(mosq_, &TestClient::on_disconnect);
  ::mosquitto_subscribe_callback_set(mosq_, &TestClient::on_subscribe);
  ::mosquitto_publish_callback_set(mosq_, &TestClient::on_publish);
  ::mosquitto_message_callback_set(mosq_, &TestClient::on_message);
  if (!options_.username.empty())
    ::mosquitto_username_pw_set(mosq_, options_.username.c_str(),
                                options_.password.empty() ? nullptr : options_.password.c_str());
  if (options_.tcp_nodelay) ::mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  if (options_.will)
    ::mosquitto_will_set(
        mosq_, options_.will->topic.c_str(), static_cast<int>(options_.will->payload.size()),
        options_.will->payload.data(), options_.will->qos, options_.will->retained);
}

TestClient::~TestClient() {
  if (connected_) disconnect();
  ::mosquitto_destroy(mosq_);
}

void TestClient::on_connect(struct mosquitto*, void* self, int rc) {
  auto* c = static_cast<TestClient*>(self);
  c->connack_ = rc;
  c->connected_ = rc == 0;
}
void TestClient::on_disconnect(struct mosquitto*, void* self, int) {
  static_cast<TestClient*>(self)->connected_ = false;
}
void TestClient::on_subscribe(struct mosquitto*, void* self, int mid, int, const int*) {
  static_cast<TestClient*>(self)->acked_mids_.push_back(mid);
}
void TestClient::on_publish(struct mosquitto*, void* self, int mid) {
  static_cast<TestClient*>(self)->acked_mids_.push_back(mid);
}
void TestClient::on_message(struct mosquitto*, void* self, const struct mosquitto_message* m) {
  static_cast<TestClient*>(self)->received_.push_back(ReceivedMessage{
      m->topic,
      std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)),
      m->qos, m->retain});
}

void TestClient::pump(Millis wait) { ::mosquitto_loop(mosq_, static_cast<int>(wait.count()), 1); }

::testing::AssertionResult TestClient::pump_until(const std::function<bool()>& done, Millis timeout,
                                                  std::string_view what) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline)
      return ::testing::AssertionFailure() << "test client " << options_.client_id << ": no "
                                           << what << " within " << timeout.count() << " ms";
    pump(5ms);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TestClient::connect(Millis timeout) {
  connack_ = -1;
  const int rc = ::mosquitto_connect(mosq_, "127.0.0.1", port_, 30);
  if (rc != MOSQ_ERR_SUCCESS)
    return ::testing::AssertionFailure()
           << "test client cannot connect to port " << port_ << ": " << ::mosquitto_strerror(rc);
  auto got = pump_until([&] { return connack_ >= 0; }, timeout, "CONNACK");
  if (!got) return got;
  if (connack_ != 0)
    return ::testing::AssertionFailure()
           << "the broker refused the test client: " << ::mosquitto_connack_string(connack_);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TestClient::subscribe(const std::string& filter, int qos,
                                                 Millis timeout) {
  int mid = 0;
  const int rc = ::mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS)
    return ::testing::AssertionFailure()
           << "subscribe " << filter << ": " << ::mosquitto_strerror(rc);
  return pump_until(
      [&] { return std::find(acked_mids_.begin(), acked_mids_.end(), mid) != acked_mids_.end(); },
      timeout, "SUBACK for " + filter);
}

::testing::AssertionResult TestClient::publish(const std::string& topic, std::string_view payload,
                                               int qos, bool retain, Millis timeout) {
  int mid = 0;
  const int rc = ::mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS)
    return ::testing::AssertionFailure() << "publish " << topic << ": " << ::mosquitto_strerror(rc);
  return pump_until(
      [&] { return std::find(acked_mids_.begin(), acked_mids_.end(), mid) != acked_mids_.end(); },
      timeout, "acknowledgement of a publish to " + topic);
}

void TestClient::drop_connection() {
  const int fd = ::mosquitto_socket(mosq_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  pump(10ms);
  connected_ = false;
}

void TestClient::disconnect() {
  ::mosquitto_disconnect(mosq_);
  pump(10ms);
  connected_ = false;
}

std::size_t TestClient::count_on(std::string_view topic) const {
  return static_cast<std::size_t>(
      std::count_if(received_.begin(), received_.end(),
                    [&](const ReceivedMessage& m) { return m.topic == topic; }));
}

std::optional<ReceivedMessage> TestClient::wait_for_topic(std::string_view topic, Millis timeout) {
  auto find = [&]() -> const ReceivedMessage* {
    for (const auto& m : received_)
      if (m.topic == topic) return &m;
    return nullptr;
  };
  if (!pump_until([&] { return find() != nullptr; }, timeout,
                  std::string("message on ") + std::string(topic)))
    return std::nullopt;
  return *find();
}

// --- helpers ----------------------------------------------------------------------

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, Millis timeout,
               std::initializer_list<TestClient*> clients) {
  // The guard keeps run_for() waiting for handlers that Paho's threads post.
  auto guard = boost::asio::make_work_guard(io);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    io.restart();
    io.run_for(2ms);
    for (TestClient* c : clients) c->pump(0ms);
  }
}

void run_for(boost::asio::io_context& io, Millis duration,
             std::initializer_list<TestClient*> clients) {
  run_until(
      io, [] { return false; }, duration, clients);
}

int run_command(const std::vector<std::string>& argv, std::string* out, Millis timeout) {
  char path[] = "/tmp/nursery-mqtt-cmd-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error(fmt::format("mkstemp: {}", std::strerror(errno)));
  ::close(fd);
  const pid_t pid = spawn(argv, path);
  auto status = reap(pid, timeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    reap(pid, 5s);
  }
  if (out) *out = read_text(path);
  ::unlink(path);
  if (!status || !WIFEXITED(*status)) return -1;
  return WEXITSTATUS(*status);
}

}  // namespace nursery::mqtt::testing
