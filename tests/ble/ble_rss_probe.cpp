// Measures what the BLE manager costs in resident memory: starts a private
// bus with the BlueZ mock, creates the manager with one connected device
// (notifications on), lets it idle, and prints VmRSS at each step.
//
//   build/tests/ble/ble_rss_probe [--idle-seconds N]
//
// The process maps libsdbus-c++ and libsystemd at start (they are linked),
// so "at start" already includes their share; the test fixture's own D-Bus
// client is counted in "mock started", so "manager" is the library's own.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "ble/ble_manager.hpp"
#include "daemon/log.hpp"
#include "tests/ble/bluez_mock.hpp"

namespace {

using namespace std::chrono_literals;

long vm_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

// Logs nothing: the probe measures the library, not a log buffer.
class NullSink final : public nursery::LogSink {
 public:
  void write(nursery::LogLevel, std::string_view, std::string_view) override {}
};

}  // namespace

int main(int argc, char** argv) {
  int idle_seconds = 3;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--idle-seconds") == 0) idle_seconds = std::atoi(argv[i + 1]);

  const long at_start = vm_rss_kb();
  try {
    nursery::bletest::BluezMock mock;
    nursery::bletest::DeviceSpec spec;
    spec.address = "F3:53:11:AA:BB:01";
    spec.name = "Probe";
    spec.services = {{"0000fff0-0000-1000-8000-00805f9b34fb",
                      {{"0000fff1-0000-1000-8000-00805f9b34fb", {"write"}, {}},
                       {"0000fff2-0000-1000-8000-00805f9b34fb", {"read", "notify"}, {}}}}};
    mock.add_device(spec);
    const long with_mock = vm_rss_kb();

    boost::asio::io_context io;
    NullSink sink;
    nursery::Logger log(sink, "ble");
    nursery::ble::Options options;
    options.bus_address = mock.bus_address();
    nursery::ble::BleManager ble(io, log, options);
    auto device = ble.device(spec.address, "");
    device->notify("fff2", [](const nursery::Bytes&) {});
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (device->link_state() != nursery::BleLinkState::Connected &&
           std::chrono::steady_clock::now() < deadline)
      io.run_one_for(50ms);
    if (device->link_state() != nursery::BleLinkState::Connected) {
      std::fprintf(stderr, "the device did not connect:\n%s\n", mock.log().c_str());
      return 1;
    }
    const auto wakeups = ble.stats().bus_wakeups;
    io.run_for(std::chrono::seconds(idle_seconds));
    const long idle = vm_rss_kb();

    std::printf("VmRSS at start (libraries mapped):      %ld kB\n", at_start);
    std::printf("VmRSS with the mock's client:           %ld kB\n", with_mock);
    std::printf("VmRSS manager connected, idle %d s:      %ld kB\n", idle_seconds, idle);
    std::printf("manager and its connection:             %ld kB\n", idle - with_mock);
    std::printf("bus wake-ups while idle:                %llu\n",
                static_cast<unsigned long long>(ble.stats().bus_wakeups - wakeups));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ble_rss_probe: %s\n", e.what());
    return 1;
  }
  return 0;
}
