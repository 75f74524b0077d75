#pragma once
// Shared pieces of the ble_tests program: a fixture with a fresh mock, the
// manager's loop, short timings, and a recorder of link events. Waits run the
// loop until a condition holds, with a generous deadline; nothing sleeps a
// fixed time to let something happen.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ble/ble_manager.hpp"
#include "daemon/log.hpp"
#include "tests/ble/bluez_mock.hpp"

namespace nursery::bletest {

using namespace std::chrono_literals;

inline constexpr const char* kAddress = "F3:53:11:AA:BB:01";
inline constexpr const char* kService = "0000fff0-0000-1000-8000-00805f9b34fb";
inline constexpr const char* kTx = "0000fff1-0000-1000-8000-00805f9b34fb";
inline constexpr const char* kRx = "0000fff2-0000-1000-8000-00805f9b34fb";

inline DeviceSpec massager(std::string address = kAddress) {
  DeviceSpec spec;
  spec.address = std::move(address);
  spec.name = "Test massager";
  spec.advertised_uuids = {kService};
  spec.services = {ServiceSpec{kService,
                               {CharacteristicSpec{kTx, {"write"}, {}},
                                CharacteristicSpec{kRx, {"read", "notify"}, {0x01}}}}};
  return spec;
}

struct LinkRecorder {
  std::vector<BleLinkEvent> events;
  void attach(BleDevice& device) {
    device.on_link([this](const BleLinkEvent& e) { events.push_back(e); });
  }
  bool saw(BleLinkState s) const { return index_of(s, 0) != npos; }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t index_of(BleLinkState s, std::size_t from) const {
    for (std::size_t i = from; i < events.size(); ++i)
      if (events[i].state == s) return i;
    return npos;
  }
  std::size_t count(BleLinkState s) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.state == s;
    return n;
  }
  std::string describe() const {
    static const char* kNames[] = {"Unavailable", "Searching", "Connecting", "Connected",
                                   "Disconnected"};
    std::string out;
    for (const auto& e : events)
      out += std::string("  ") + kNames[static_cast<int>(e.state)] + ": " + e.reason + "\n";
    return out;
  }
};

class BleTest : public ::testing::Test {
 protected:
  void SetUp() override { mock = std::make_unique<BluezMock>(mock_options()); }
  void TearDown() override {
    ble.reset();
    // Let the manager's last messages go out before the mock goes.
    for (int i = 0; i < 20 && io.poll() > 0; ++i) {
    }
  }
  virtual BluezMock::Options mock_options() { return {}; }

  // Short timings so failures and retries happen in well under a second.
  ble::Options fast_options() {
    ble::Options o;
    o.bus_address = mock->bus_address();
    o.connect_timeout = 5s;
    o.resolve_timeout = 5s;
    o.gatt_timeout = 2s;
    o.abort_wait = 3s;
    o.backoff_min = 100ms;
    o.backoff_max = 400ms;
    o.search_window = 3s;
    o.retry_min = 100ms;
    o.retry_max = 500ms;
    o.random = [] { return 0.0; };  // no jitter: exact backoff delays
    return o;
  }

  ble::BleManager& start_manager(ble::Options options) {
    ble = std::make_unique<ble::BleManager>(io, log, std::move(options));
    return *ble;
  }
  ble::BleManager& start_manager() { return start_manager(fast_options()); }

  // Runs the loop until `done()` holds or `timeout` passes.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return done();
      io.restart();
      if (io.run_one_for(10ms) == 0) std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  void run_for(std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_until(deadline);
    }
  }

  // What to print when an expectation fails.
  std::string diagnostics() const {
    std::string out = "--- manager log:\n";
    for (const auto& l : sink.lines) out += "  [" + l.domain + "] " + l.message + "\n";
    out += "--- mock output:\n" + mock->log();
    return out;
  }

  bool connected(const BleDevice& d) const { return d.link_state() == BleLinkState::Connected; }

  std::size_t log_lines_containing(const std::string& needle) const {
    std::size_t n = 0;
    for (const auto& l : sink.lines) n += l.message.find(needle) != std::string::npos;
    return n;
  }

  boost::asio::io_context io;
  MemorySink sink;
  Logger log{sink, "ble"};
  std::unique_ptr<BluezMock> mock;
  std::unique_ptr<ble::BleManager> ble;
};

}  // namespace nursery::bletest
