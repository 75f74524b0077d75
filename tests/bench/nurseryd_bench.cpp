// Measures nurseryd as an admin would see it, on the example config with
// simulated devices, and prints the figures. Not a test: the machines are
// shared and noisy, so nothing here passes or fails on a number.
//
//   nurseryd_bench [--nurseryd PATH] [--config FILE] [--starts N] [--idle-seconds S]
//
// Prints: start to READY=1 (percentiles over N starts), resident memory once
// ready and idle, CPU and wake-ups while idle, and what one whole bedtime
// routine writes to storage.

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "web/control_client.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string nurseryd = NURSERYD_PATH;
  std::string config = NURSERY_SOURCE_DIR "/config/nurseryd.toml";
  int starts = 20;
  int idle_seconds = 10;
};

class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("bind notify socket");
      std::exit(1);
    }
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    ::close(fd_);
    fs::remove(path_);
  }
  // Waits for a datagram containing READY=1; false on timeout.
  bool wait_ready() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf - 1, 0);
      if (n < 0) return false;
      buf[n] = '\0';
      if (std::string_view(buf, static_cast<std::size_t>(n)).find("READY=1") != std::string_view::npos)
        return true;
    }
  }

 private:
  fs::path path_;
  int fd_;
};

pid_t spawn(const Args& a, const fs::path& dir, const fs::path& notify,
            const std::vector<std::string>& extra) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
    ::unsetenv("WATCHDOG_USEC");
    std::FILE* null = std::fopen("/dev/null", "w");
    ::dup2(fileno(null), STDERR_FILENO);
    ::dup2(fileno(null), STDOUT_FILENO);
    std::vector<std::string> args = {a.nurseryd, "--config", a.config, "--state-dir",
                                     dir.string(), "--runtime-dir", dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::string proc_field(pid_t pid, const std::string& file, const std::string& key) {
  std::ifstream in(fmt::format("/proc/{}/{}", pid, file));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

long long number(const std::string& s) { return std::atoll(s.c_str()); }

// utime + stime in clock ticks.
long long cpu_ticks(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) {
      stime = std::atoll(field.c_str());
      break;
    }
  }
  return utime + stime;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--nurseryd") a.nurseryd = v;
    else if (k == "--config") a.config = v;
    else if (k == "--starts") a.starts = std::max(1, std::atoi(v.c_str()));
    else if (k == "--idle-seconds") a.idle_seconds = std::max(1, std::atoi(v.c_str()));
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  char tmpl[] = "/tmp/nurseryd-bench-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  const fs::path notify = dir / "notify.sock";
  NotifySocket ns(notify);
  fmt::print("nurseryd benchmark: {} on {}\n", a.nurseryd, a.config);

  // 1. Start to READY=1, each start on a fresh state directory.
  std::vector<double> ms;
  for (int i = 0; i < a.starts; ++i) {
    fs::path state = dir / fmt::format("start-{}", i);
    fs::create_directories(state);
    auto t0 = Clock::now();
    pid_t pid = spawn(a, state, notify, {});
    if (!ns.wait_ready()) {
      std::fprintf(stderr, "nurseryd sent no READY=1 within 10 s\n");
      stop(pid);
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    stop(pid);
  }
  fmt::print("start to READY=1 over {} starts (fork+exec included): p50 {:.1f} ms, p90 {:.1f} ms, max {:.1f} ms\n",
             a.starts, percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 1.0));

  // 2. Idle: memory, CPU, wake-ups.
  fs::path state = dir / "idle";
  fs::create_directories(state);
  pid_t pid = spawn(a, state, notify, {});
  if (!ns.wait_ready()) return 1;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long long ticks0 = cpu_ticks(pid);
  const long long wakes0 = number(proc_field(pid, "status", "voluntary_ctxt_switches")) +
                           number(proc_field(pid, "status", "nonvoluntary_ctxt_switches"));
  std::this_thread::sleep_for(std::chrono::seconds(a.idle_seconds));
  const long long ticks1 = cpu_ticks(pid);
  const long long wakes1 = number(proc_field(pid, "status", "voluntary_ctxt_switches")) +
                           number(proc_field(pid, "status", "nonvoluntary_ctxt_switches"));
  const double rss_mb = static_cast<double>(number(proc_field(pid, "status", "VmRSS"))) / 1024.0;
  const double hwm_mb = static_cast<double>(number(proc_field(pid, "status", "VmHWM"))) / 1024.0;
  const double cpu = 100.0 * static_cast<double>(ticks1 - ticks0) /
                     static_cast<double>(sysconf(_SC_CLK_TCK)) / a.idle_seconds;
  fmt::print("resident memory, ready and idle: {:.2f} MB (peak {:.2f} MB)\n", rss_mb, hwm_mb);
  fmt::print("idle over {} s: {:.3f} % of a core (tick resolution {:.3f} %), {} wake-ups\n",
             a.idle_seconds, cpu, 100.0 / static_cast<double>(sysconf(_SC_CLK_TCK)) / a.idle_seconds,
             wakes1 - wakes0);
  stop(pid);

  // 3. One whole bedtime routine: bytes written to storage.
  state = dir / "routine";
  fs::create_directories(state);
  pid = spawn(a, state, notify, {"--time-scale", "600"});
  if (!ns.wait_ready()) return 1;
  const long long written0 = number(proc_field(pid, "io", "write_bytes"));
  const long long wchar0 = number(proc_field(pid, "io", "wchar"));
  nursery::ControlClient client(state / "control.sock");
  auto started = client.request("POST", "/api/v1/rooms/nursery/routine",
                                nlohmann::json{{"action", "start"}, {"routine", "bedtime"}});
  if (!started || started->status != 200) {
    std::fprintf(stderr, "could not start the routine\n");
    stop(pid);
    return 1;
  }
  auto t0 = Clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto st = client.request("GET", "/api/v1/status");
    if (st && st->body["rooms"][0]["routine"]["state"] == "idle") break;
    if (Clock::now() - t0 > std::chrono::seconds(60)) {
      std::fprintf(stderr, "the routine did not end within 60 s\n");
      break;
    }
  }
  const long long written1 = number(proc_field(pid, "io", "write_bytes"));
  const long long wchar1 = number(proc_field(pid, "io", "wchar"));
  stop(pid);
  std::uintmax_t files = 0;
  for (auto& e : fs::directory_iterator(state))
    if (e.path().filename().string().rfind("nurseryd.db", 0) == 0) files += e.file_size();
  fmt::print("one whole bedtime routine (45 min at --time-scale 600): {:.1f} KiB written to storage "
             "(write_bytes), {:.1f} KiB through write() incl. logs and API replies (wchar); "
             "database files after a clean stop {:.1f} KiB\n",
             static_cast<double>(written1 - written0) / 1024.0,
             static_cast<double>(wchar1 - wchar0) / 1024.0, static_cast<double>(files) / 1024.0);
  fs::remove_all(dir);
  return 0;
}
