#pragma once
// A harness for tests that run the real nurseryd and nurseryctl binaries: a
// private directory per test (config, state, runtime), TOML routines written
// from a few lines of C++, a notify socket standing in for systemd, and a
// child process that is always killed and reaped, whatever the test does.
//
// Every wait is bounded; a wait that runs out says what it waited for and
// what the daemon logged. Signals go only to the pid this harness started.
// Thread: the test's thread. Failures are gtest AssertionResults or
// std::runtime_error (for setup that cannot go on, such as mkdtemp failing).

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "web/control_client.hpp"

namespace nursery::it {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// Paths of the binaries under test: the ones CMake built, unless
// NURSERY_IT_NURSERYD / NURSERY_IT_NURSERYCTL name others (an installed build).
std::filesystem::path nurseryd_path();
std::filesystem::path nurseryctl_path();

// --- configuration ---------------------------------------------------------

// One routine step. `values` are TOML assignments, one each: "on = true".
struct StepSpec {
  int at_s = 0;
  std::string role;  // light, sound or massager
  std::vector<std::string> values;
  int fade_s = 0;
};

struct RoutineSpec {
  std::string id;
  std::string kind = "other";  // bedtime, wake or other
  std::vector<StepSpec> steps;
};

// A hub with one room, "nursery", and three simulated devices: "night-light",
// "sound" and "massager".
struct HubSpec {
  std::string name = "Test hub";
  std::string time_zone = "UTC";
  std::string default_routine;  // empty: the first routine's id
  bool native_transitions = true;
  std::vector<RoutineSpec> routines;
};

std::string to_toml(const HubSpec& spec);

// --- a directory per test ---------------------------------------------------

class TestHome {
 public:
  TestHome();   // a fresh directory under $TMPDIR (or /tmp); throws if it cannot
  ~TestHome();  // removed, unless NURSERY_IT_KEEP is set
  TestHome(const TestHome&) = delete;
  TestHome& operator=(const TestHome&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path config_file() const { return dir_ / "nurseryd.toml"; }
  std::filesystem::path state_dir() const { return dir_ / "state"; }
  std::filesystem::path runtime_dir() const { return dir_ / "run"; }
  std::filesystem::path socket() const { return runtime_dir() / "control.sock"; }
  std::filesystem::path database() const { return state_dir() / "nurseryd.db"; }

  // Writes the config file (whole, replacing what was there).
  void write_config(std::string_view toml) const;
  void write_config(const HubSpec& spec) const { write_config(to_toml(spec)); }
  // Writes any file in the directory; returns its path.
  std::filesystem::path write_file(std::string_view name, std::string_view text) const;

 private:
  std::filesystem::path dir_;
};

// --- systemd's side of sd_notify() -------------------------------------------

struct NotifyMessage {
  std::chrono::steady_clock::time_point received;
  std::string text;                             // newline-separated assignments, as sent
  bool has(std::string_view assignment) const;  // a whole line, e.g. "READY=1"
  std::optional<std::string> value(std::string_view key) const;  // "STATUS" -> its text
};

// An AF_UNIX datagram socket bound in the test's directory; pass path() as
// NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Waits up to `timeout` for the next datagram (after those already read).
  std::optional<NotifyMessage> next(Millis timeout);
  // Reads datagrams until one has the line `assignment`; nullopt on timeout.
  std::optional<NotifyMessage> wait_for(std::string_view assignment, Millis timeout);
  // Every datagram read so far, oldest first.
  const std::vector<NotifyMessage>& received() const { return received_; }
  std::string describe_received() const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<NotifyMessage> received_;
};

// --- child processes -----------------------------------------------------------

struct ExitStatus {
  bool exited = false;  // by exit(): `code` is set; otherwise killed by `signal`
  int code = 0;
  int signal = 0;
  std::string describe() const;
};

using Environment = std::vector<std::pair<std::string, std::string>>;

struct ProgramResult {
  std::optional<ExitStatus> status;  // nullopt: it did not finish in time (then killed)
  std::string out;
  std::string err;
  int code() const { return status && status->exited ? status->code : -1; }
  std::string describe() const;  // status, stdout and stderr, for failure messages
};

// Runs a program to completion (bounded); stdout and stderr are captured
// through files in `scratch_dir`. The environment is ours minus systemd's
// variables, plus `env`.
ProgramResult run_program(const std::vector<std::string>& argv,
                          const std::filesystem::path& scratch_dir, const Environment& env = {},
                          Millis timeout = 10s);

struct DaemonOptions {
  std::vector<std::string> args;  // added after --config/--state-dir/--runtime-dir
  Environment env;
  // Starts nurseryd through `/bin/sh -c 'WATCHDOG_PID=$$ exec …'`, so that
  // WATCHDOG_PID names the daemon itself, as systemd sets it.
  bool watchdog_pid_is_self = false;
};

// The real nurseryd, started on a TestHome. One process at a time; start()
// again after it has exited to "restart" it on the same state.
class DaemonProcess {
 public:
  explicit DaemonProcess(const TestHome& home);
  ~DaemonProcess();  // SIGKILL and reap, if still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Spawns nurseryd; its stderr goes to a new log file for this start.
  ::testing::AssertionResult start(const DaemonOptions& options = {});
  // Polls GET /api/v1/status until it answers 200, the process exits, or the
  // timeout passes.
  ::testing::AssertionResult wait_until_answering(Millis timeout = 10s);
  ::testing::AssertionResult start_and_wait(const DaemonOptions& options = {});

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` to the process this object started; false when there is none.
  bool signal(int sig);
  // Waits for the process to exit and reaps it; nullopt if it is still running.
  std::optional<ExitStatus> wait_exit(Millis timeout = 10s);
  // SIGKILL and reap, as a crash or a power-cut-free kill -9 would leave things.
  ::testing::AssertionResult kill_hard();

  // The stderr of the current (or last) start, and of every start so far.
  std::string log() const;
  std::string all_logs() const;
  // Waits until log() contains `needle`.
  ::testing::AssertionResult wait_for_log(std::string_view needle, Millis timeout = 5s);

  // A client of the current start's control socket.
  ControlClient& client();
  std::chrono::steady_clock::time_point started_at() const { return spawned_at_; }

 private:
  const TestHome& home_;
  pid_t pid_ = -1;
  int starts_ = 0;
  std::chrono::steady_clock::time_point spawned_at_;
  std::optional<ExitStatus> last_exit_;
  std::unique_ptr<ControlClient> client_;
  std::vector<std::filesystem::path> logs_;
};

// --- the control API, for assertions ------------------------------------------

// GET/POST through `client`; a transport failure is a test failure (reported
// with the daemon's log) and a response with status 0.
ControlResponse api(DaemonProcess& daemon, std::string_view method, std::string_view target,
                    std::optional<nlohmann::json> body = std::nullopt);
ControlResponse api_raw(DaemonProcess& daemon, std::string_view method, std::string_view target,
                        std::string body);
// POST /api/v1/rooms/ROOM/routine {"action": ACTION[, "routine": ROUTINE]}.
ControlResponse routine_request(DaemonProcess& daemon, std::string_view action,
                                std::optional<std::string> routine = std::nullopt,
                                std::string_view room = "nursery");
nlohmann::json status_of(DaemonProcess& daemon);  // GET /api/v1/status, expecting 200
nlohmann::json runs_of(DaemonProcess& daemon);    // GET /api/v1/runs, the "runs" array

// The routine of room `room` (default "nursery") and its device `id` in a status.
nlohmann::json room_routine(const nlohmann::json& status, std::string_view room = "nursery");
nlohmann::json device_in(const nlohmann::json& status, std::string_view id,
                         std::string_view room = "nursery");

// "2025-11-26T06:13:19.123Z" -> milliseconds since the epoch.
std::optional<std::chrono::milliseconds> parse_utc(const std::string& iso);

}  // namespace nursery::it
