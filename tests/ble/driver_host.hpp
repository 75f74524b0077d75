#pragma once
// A DeviceHost for driver tests: it records what a driver tells the hub
// (reports, command results, availability, battery, link quality) and
// gives it the BLE manager under test. Time is the loop's (LoopClock), so
// alarms run as the test drives the io_context. `utc_offset` shifts the
// local time the driver reads, to put it in a given hour of the night.

#include <date/date.h>

#include <boost/asio/post.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/clock.hpp"
#include "daemon/device.hpp"

namespace nursery::bletest {

struct DriverHost final : public DeviceHost {
  DriverHost(boost::asio::io_context& io_, LogSink& sink_, Ble* ble_)
      : io(io_), clock_(io_, 1.0), log_(sink_, "device"), ble_service(ble_) {}

  Clock& clock() override { return clock_; }
  Logger logger() override { return log_; }
  std::string local_time(TimePoint t) const override {
    return date::format("%H:%M:%S", std::chrono::floor<std::chrono::seconds>(t + utc_offset));
  }
  void post(std::function<void()> fn) override { boost::asio::post(io, std::move(fn)); }
  void report(const DeviceReport& r) override { reports.push_back(r); }
  void command_result(CommandId id, CommandOutcome outcome, std::string reason) override {
    results.push_back({id, outcome, std::move(reason)});
  }
  void availability(Availability a, std::string reason) override {
    availabilities.push_back({a, std::move(reason)});
  }
  void battery(int percent) override { batteries.push_back(percent); }
  void link_quality(int percent) override { qualities.push_back(percent); }
  PubSub* pubsub() override { return nullptr; }
  Ble* ble() override { return ble_service; }

  struct Result {
    CommandId id;
    CommandOutcome outcome;
    std::string reason;
  };
  std::optional<Result> result_of(CommandId id) const {
    for (const auto& r : results)
      if (r.id == id) return r;
    return std::nullopt;
  }
  Availability now() const {
    return availabilities.empty() ? Availability::Unknown : availabilities.back().first;
  }
  std::size_t count(Availability a) const {
    std::size_t n = 0;
    for (const auto& [x, reason] : availabilities) n += x == a;
    return n;
  }
  // Reports not tied to a command: what the device did by itself.
  std::vector<DeviceReport> unprompted() const {
    std::vector<DeviceReport> out;
    for (const auto& r : reports)
      if (!r.answers) out.push_back(r);
    return out;
  }

  boost::asio::io_context& io;
  LoopClock clock_;
  Logger log_;
  Ble* ble_service;
  Duration utc_offset{0};
  std::vector<DeviceReport> reports;
  std::vector<Result> results;
  std::vector<std::pair<Availability, std::string>> availabilities;
  std::vector<int> batteries;
  std::vector<int> qualities;
};

}  // namespace nursery::bletest
