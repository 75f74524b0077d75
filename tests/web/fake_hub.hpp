#pragma once
// A HubApi that records every call and answers with canned values, and a
// fixture that serves it with a real ControlServer on a UNIX socket in a
// temporary directory. The io_context runs on a background thread (the
// "loop thread"); the test talks to it through ControlClient.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/hub_api.hpp"
#include "daemon/log.hpp"
#include "web/control_client.hpp"
#include "web/control_server.hpp"

namespace nursery::testing {

class FakeHub final : public HubApi {
 public:
  struct RoutineCall {
    std::string room;
    RoutineRequest request;
  };
  struct DeviceCall {
    std::string room;
    std::string device;
    DeviceRequest command;
  };

  FakeHub() {
    using namespace std::chrono;
    status_.name = "Nursery Hub";
    status_.time_zone = "UTC";
    status_.version = "0.1.0";
    status_.now = TimePoint(milliseconds(1714591800000LL));  // 2024-05-01T19:30:00Z
    RoomStatus room;
    room.id = "nursery";
    room.name = "Nursery";
    DeviceStatus light;
    light.id = "night-light";
    light.name = "Night light";
    light.driver = "simulated";
    light.capabilities = static_cast<unsigned>(Capability::Light);
    light.availability = Availability::Available;
    light.state.light_on = true;
    light.state.brightness = Level::permille(100);
    light.state.color_temp = 2200;
    room.devices.push_back(light);
    room.routine.state = RoutineState::Running;
    room.routine.routine = "bedtime";
    room.routine.step_index = 2;
    room.routine.step_count = 7;
    room.routine.started_at = status_.now - minutes(15);
    room.routine.ends_at = status_.now + minutes(15) + seconds(10);
    status_.rooms.push_back(room);
  }

  HubStatus status() const override {
    std::lock_guard lock(mutex_);
    ++status_calls_;
    return status_;
  }

  Expected<RoutineStatus> routine(std::string_view room, const RoutineRequest& request) override {
    std::lock_guard lock(mutex_);
    routine_calls_.push_back({std::string(room), request});
    if (!has_room(room)) return unknown_room(room);
    RoutineStatus result;
    result.state = request.action == RoutineAction::Stop    ? RoutineState::Idle
                   : request.action == RoutineAction::Pause ? RoutineState::Paused
                                                            : RoutineState::Running;
    if (result.state != RoutineState::Idle) {
      result.routine = request.routine.value_or("bedtime");
      result.step_count = 7;
      result.started_at = status_.now;
      if (result.state == RoutineState::Running)
        result.ends_at = status_.now + std::chrono::minutes(45);
    }
    return result;
  }

  // Two canned runs in the nursery, filtered as the real hub's store does;
  // "bedtime" and "nap" are the routines it knows.
  // The sleep log is the real hub's (tests/integration); the fake keeps none.
  Expected<SleepEntry> add_sleep_entry(const SleepEntryRequest&) override {
    return Error{"not_supported", "The fake hub keeps no sleep log.", 404};
  }
  Expected<SleepLogData> sleep_log(const SleepLogQuery&) const override {
    return Error{"not_supported", "The fake hub keeps no sleep log.", 404};
  }
  Expected<std::vector<RunRecord>> runs(const RunQuery& query) const override {
    std::lock_guard lock(mutex_);
    runs_queries_.push_back(query);
    if (query.room && !has_room(*query.room)) return unknown_room(*query.room);
    if (query.routine && *query.routine != "bedtime" && *query.routine != "nap")
      return Error{"unknown_routine", fmt::format("There is no routine \"{}\".", *query.routine),
                   404};
    RunRecord open;
    open.id = 2;
    open.room = "nursery";
    open.routine = "bedtime";
    open.started_at = status_.now - std::chrono::minutes(15);
    RunRecord done;
    done.id = 1;
    done.room = "nursery";
    done.routine = "nap";
    done.started_at = status_.now - std::chrono::hours(5);
    done.ended_at = status_.now - std::chrono::hours(4);
    done.outcome = Outcome::Completed;
    std::vector<RunRecord> out;
    for (const auto& run : {open, done})
      if ((!query.room || run.room == *query.room) &&
          (!query.routine || run.routine == *query.routine) && out.size() < query.limit)
        out.push_back(run);
    return out;
  }

  Expected<CommandResult> set_device(std::string_view room, std::string_view device,
                                     const DeviceRequest& command) override {
    std::lock_guard lock(mutex_);
    device_calls_.push_back({std::string(room), std::string(device), command});
    if (!has_room(room)) return unknown_room(room);
    if (device != "night-light")
      return Error{"unknown_device", fmt::format("There is no device \"{}\" in {}.", device, room),
                   404};
    CommandResult result{std::string(room), std::string(device), bit(Capability::Light),
                         command.values,    command.values,      {}};
    if (command.on) result.requested.light_on = result.applied.light_on = command.on;
    // A stand-in for the night-light limit: brightness at most 30%.
    if (command.values.brightness && *command.values.brightness > Level::permille(300)) {
      result.applied.brightness = Level::permille(300);
      result.clamps.push_back({"brightness", describe(*command.values.brightness), "30%",
                               "the night light is capped at 30% after dusk", false});
    }
    return result;
  }

  void add_room(std::string id, std::string name) {
    std::lock_guard lock(mutex_);
    RoomStatus room;
    room.id = std::move(id);
    room.name = std::move(name);
    status_.rooms.push_back(room);
  }

  std::vector<RoutineCall> routine_calls() const {
    std::lock_guard lock(mutex_);
    return routine_calls_;
  }
  std::vector<DeviceCall> device_calls() const {
    std::lock_guard lock(mutex_);
    return device_calls_;
  }
  std::vector<RunQuery> runs_queries() const {
    std::lock_guard lock(mutex_);
    return runs_queries_;
  }
  // Calls that could change state: none may follow a refused request.
  std::size_t changing_calls() const {
    std::lock_guard lock(mutex_);
    return routine_calls_.size() + device_calls_.size();
  }

 private:
  bool has_room(std::string_view room) const {
    for (const auto& r : status_.rooms)
      if (r.id == room) return true;
    return false;
  }
  static Error unknown_room(std::string_view room) {
    return Error{"unknown_room", fmt::format("There is no room \"{}\".", room), 404};
  }

  mutable std::mutex mutex_;
  HubStatus status_;
  mutable std::size_t status_calls_ = 0;
  std::vector<RoutineCall> routine_calls_;
  std::vector<DeviceCall> device_calls_;
  mutable std::vector<RunQuery> runs_queries_;
};

inline std::filesystem::path make_temp_dir() {
  // Short, under /tmp: a UNIX socket path must fit in 108 bytes.
  std::string pattern = (std::filesystem::temp_directory_path() / "nursery-web-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

class ServedHub : public ::testing::Test {
 protected:
  // Runs `f` on the loop thread and waits for its result.
  template <typename F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  void SetUp() override {
    dir_ = make_temp_dir();
    socket_ = dir_ / "control.sock";
    server_ = std::make_unique<ControlServer>(io_, hub_, Logger(sink_, "control"), options_);
    auto listening = server_->listen(socket_);
    ASSERT_TRUE(listening.ok()) << listening.error().message;
    loop_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (loop_.joinable()) {
      on_loop([this] { server_->close(); });
      work_.reset();
      loop_.join();  // returns once every connection has wound down
    }
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ControlClient client() { return ControlClient(socket_, std::chrono::seconds(5)); }

  // Replaces the server with one with these limits, on the same socket.
  ::testing::AssertionResult serve_with(const ControlServerOptions& options) {
    options_ = options;
    auto listening = on_loop([this] {
      server_->close();
      server_ = std::make_unique<ControlServer>(io_, hub_, Logger(sink_, "control"), options_);
      return server_->listen(socket_);
    });
    if (!listening) return ::testing::AssertionFailure() << listening.error().message;
    return ::testing::AssertionSuccess();
  }

  ControlServerCounters counters() {
    return on_loop([this] { return server_->counters(); });
  }
  // Polls the server's counters until `done` holds for them or `timeout`
  // passes; returns the last counters seen, for the assertion's message.
  template <typename Done>
  ::testing::AssertionResult wait_for_counters(
      Done done, const char* what, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    ControlServerCounters c;
    for (;;) {
      c = counters();
      if (done(c)) return ::testing::AssertionSuccess();
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a polling interval
    }
    return ::testing::AssertionFailure()
           << "waited " << timeout.count() << " ms for " << what << "; counters: open " << c.open
           << ", idle " << c.idle << ", writing " << c.writing << ", refusing " << c.refusing
           << ", accepted " << c.accepted << ", refused " << c.refused << ", evicted " << c.evicted
           << ", timed out " << c.timed_out << ", accept failures " << c.accept_failures;
  }
  // The lines logged so far that contain `needle`.
  std::vector<std::string> logged(std::string_view needle) {
    return on_loop([this, needle] {
      std::vector<std::string> out;
      for (const auto& line : sink_.lines)
        if (line.message.find(needle) != std::string::npos) out.push_back(line.message);
      return out;
    });
  }

  FakeHub hub_;
  MemorySink sink_;
  ControlServerOptions options_;  // a fixture that wants other limits sets them in its constructor
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::filesystem::path dir_;
  std::filesystem::path socket_;
  std::unique_ptr<ControlServer> server_;
  std::thread loop_;
};

}  // namespace nursery::testing
