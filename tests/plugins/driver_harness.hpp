#pragma once
// One MQTT driver at a time, on the in-memory broker (mqtt::FakeConnection)
// and in virtual time, with a DeviceHost that records everything the driver
// tells the hub: reports with their context, command results, availability.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "daemon/clock.hpp"
#include "daemon/device.hpp"
#include "mqtt/fake_connection.hpp"
#include "plugins/registry.hpp"

namespace nursery::testing {

using namespace std::chrono_literals;

inline TimePoint test_start() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + std::chrono::hours(19));
}

// A config with one room, a routine, and `device_block` (a [[devices]]
// table); the loader's result, diagnostics included.
inline config::LoadResult load_with_device(const std::string& device_block) {
  const std::string text = R"([[rooms]]
id = "nursery"

[[routines]]
id = "bedtime"
  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true

)" + device_block;
  return config::load_string(text, "test.toml", plugins::catalog());
}

inline std::string diagnostics_text(const config::LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += d.to_string() + "\n";
  return out;
}

// Warning lines of `sink` that contain `needle`.
inline std::size_t warnings_containing(const MemorySink& sink, std::string_view needle) {
  std::size_t n = 0;
  for (const auto& l : sink.lines)
    if (l.level == LogLevel::Warning && l.message.find(needle) != std::string::npos) ++n;
  return n;
}

struct Result {
  CommandId id;
  CommandOutcome outcome;
  std::string reason;
};
struct AvailabilityChange {
  Availability availability;
  std::string reason;
};

class RecordingHost final : public DeviceHost {
 public:
  RecordingHost(Clock& clock, LogSink& sink, PubSub* bus) : clock_(clock), sink_(sink), bus_(bus) {}
  Clock& clock() override { return clock_; }
  Logger logger() override { return Logger(sink_, "device"); }
  std::string local_time(TimePoint) const override { return "19:00:00"; }
  void post(std::function<void()> fn) override {
    auto alarm = clock_.make_alarm();
    Alarm* raw = alarm.get();
    posted_.push_back(std::move(alarm));
    raw->set(clock_.now(), std::move(fn));
  }
  void report(const DeviceReport& r) override { reports.push_back(r); }
  void command_result(CommandId id, CommandOutcome outcome, std::string reason) override {
    results.push_back({id, outcome, std::move(reason)});
  }
  void availability(Availability a, std::string reason) override {
    availabilities.push_back({a, std::move(reason)});
  }
  void battery(int percent) override { batteries.push_back(percent); }
  void link_quality(int percent) override { link_qualities.push_back(percent); }
  PubSub* pubsub() override { return bus_; }
  Ble* ble() override { return nullptr; }

  std::vector<DeviceReport> reports;
  std::vector<Result> results;
  std::vector<AvailabilityChange> availabilities;
  std::vector<int> batteries;
  std::vector<int> link_qualities;

  Availability current() const {
    return availabilities.empty() ? Availability::Unknown : availabilities.back().availability;
  }

 private:
  Clock& clock_;
  LogSink& sink_;
  PubSub* bus_;
  std::vector<std::unique_ptr<Alarm>> posted_;
};

class DriverHarness : public ::testing::Test {
 protected:
  // Creates the device of `device_block` (which must load without errors)
  // and starts it on a connected broker.
  Device& make(const std::string& device_block, bool connect = true) {
    auto r = load_with_device(device_block);
    EXPECT_TRUE(r.ok()) << diagnostics_text(r);
    if (!r.ok()) throw std::runtime_error("config");
    config_ = r.config->devices.at(0);
    auto d = plugins::create_device(config_, host_, environment_);
    EXPECT_TRUE(static_cast<bool>(d));
    device_ = std::move(*d);
    if (connect) bus_.set_connected(true);
    settle();
    device_->start();
    settle();
    return *device_;
  }
  // Runs what is due now: posted broker deliveries and due alarms.
  void settle() {
    for (int i = 0; i < 20; ++i) {
      io_.restart();
      io_.poll();
      clock_.advance(0ms);
    }
  }
  void advance(Duration by) {
    clock_.advance(by);
    settle();
  }
  // The device publishes `payload` on `topic`.
  void device_says(const std::string& topic, const std::string& payload, bool retained = false) {
    bus_.inject({topic, payload, retained});
    settle();
  }
  CommandId apply(DeviceValues values, Duration transition = 0ms) {
    DeviceCommand c;
    c.id = ++next_id_;
    c.values = std::move(values);
    c.transition = transition;
    device_->apply(c);
    settle();
    return c.id;
  }
  // The payloads published on `topic`, oldest first.
  std::vector<std::string> sent_on(const std::string& topic) const {
    std::vector<std::string> out;
    for (const auto& m : bus_.published())
      if (m.topic == topic) out.push_back(m.payload);
    return out;
  }
  std::size_t warnings_containing(std::string_view needle) const {
    return testing::warnings_containing(sink_, needle);
  }

  boost::asio::io_context io_;
  ManualClock clock_{test_start()};
  MemorySink sink_;
  mqtt::FakeConnection bus_{io_};
  RecordingHost host_{clock_, sink_, &bus_};
  plugins::PluginEnvironment environment_;
  config::DeviceConfig config_;
  std::unique_ptr<Device> device_;
  CommandId next_id_ = 100;
};

inline Level pct(int percent) { return Level::permille(percent * 10); }

}  // namespace nursery::testing
