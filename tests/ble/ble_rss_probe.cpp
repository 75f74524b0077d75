// Measures what BLE costs a process in resident memory.
//
//   build/tests/ble/ble_rss_probe [--idle-seconds N]
//
// The probe starts a private bus with the BlueZ mock and one device, then
// runs itself again as a child (`--bus ADDRESS`) that does nothing but
// create the manager, connect the device with notifications on, idle, and
// print its VmRSS, so the figures hold none of the fixture's own D-Bus
// client. It also sums the resident pages of the shared libraries that only
// BLE brings (libsdbus-c++, libsystemd and what libsystemd pulls in).

#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ble/ble_manager.hpp"
#include "daemon/log.hpp"
#include "tests/ble/bluez_mock.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

constexpr const char* kAddress = "F3:53:11:AA:BB:01";

long vm_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

// Resident kB of the mappings of libraries only BLE links.
long ble_libraries_kb() {
  static const char* kLibraries[] = {"libsdbus-c++", "libsystemd", "liblzma",   "libzstd",
                                     "liblz4",       "libcap.so",  "libgcrypt", "libgpg-error"};
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool counting = false;
  long total = 0;
  while (std::getline(smaps, line)) {
    if (line.find('-') != std::string::npos && line.find(' ') > line.find('-') &&
        std::isxdigit(static_cast<unsigned char>(line[0]))) {
      counting = false;
      for (const char* lib : kLibraries) counting = counting || line.find(lib) != std::string::npos;
    } else if (counting && line.rfind("Rss:", 0) == 0) {
      total += std::strtol(line.c_str() + 4, nullptr, 10);
    }
  }
  return total;
}

class NullSink final : public nursery::LogSink {
 public:
  void write(nursery::LogLevel, std::string_view, std::string_view) override {}
};

int measure(const std::string& bus, int idle_seconds) {
  const long at_start = vm_rss_kb();
  const long libraries_at_start = ble_libraries_kb();
  boost::asio::io_context io;
  NullSink sink;
  nursery::Logger log(sink, "ble");
  nursery::ble::Options options;
  options.bus_address = bus;
  nursery::ble::BleManager ble(io, log, options);
  auto device = ble.device(kAddress, "");
  device->notify("fff2", [](const nursery::Bytes&) {});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (device->link_state() != nursery::BleLinkState::Connected &&
         std::chrono::steady_clock::now() < deadline)
    io.run_one_for(50ms);
  if (device->link_state() != nursery::BleLinkState::Connected) {
    std::fprintf(stderr, "ble_rss_probe: the device did not connect\n");
    return 1;
  }
  io.run_for(500ms);  // the tail of the connect (StartNotify)
  const auto wakeups = ble.stats().bus_wakeups;
  io.run_for(std::chrono::seconds(idle_seconds));
  const long idle = vm_rss_kb();
  std::printf("VmRSS at start (libraries mapped, nothing used): %ld kB\n", at_start);
  std::printf("  of which BLE-only libraries:                  %ld kB\n", libraries_at_start);
  std::printf("VmRSS connected, after %d s idle:               %ld kB\n", idle_seconds, idle);
  std::printf("  growth from creating and running the manager: %ld kB\n", idle - at_start);
  std::printf("  resident pages of BLE-only libraries:         %ld kB\n", ble_libraries_kb());
  std::printf("bus wake-ups in those %d idle seconds:           %llu\n", idle_seconds,
              static_cast<unsigned long long>(ble.stats().bus_wakeups - wakeups));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int idle_seconds = 5;
  std::string bus;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--idle-seconds") == 0) idle_seconds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--bus") == 0) bus = argv[i + 1];
  }
  if (!bus.empty()) return measure(bus, idle_seconds);

  try {
    nursery::bletest::BluezMock mock;
    nursery::bletest::DeviceSpec spec;
    spec.address = kAddress;
    spec.name = "Probe";
    spec.services = {{"0000fff0-0000-1000-8000-00805f9b34fb",
                      {{"0000fff1-0000-1000-8000-00805f9b34fb", {"write"}, {}},
                       {"0000fff2-0000-1000-8000-00805f9b34fb", {"read", "notify"}, {}}}}};
    mock.add_device(spec);

    std::string seconds = std::to_string(idle_seconds);
    std::string address = mock.bus_address();
    std::vector<char*> args = {argv[0],        const_cast<char*>("--bus"),
                               address.data(), const_cast<char*>("--idle-seconds"),
                               seconds.data(), nullptr};
    pid_t child = -1;
    if (posix_spawn(&child, argv[0], nullptr, nullptr, args.data(), environ) != 0) {
      std::perror("ble_rss_probe: posix_spawn");
      return 1;
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ble_rss_probe: %s\n", e.what());
    return 1;
  }
}
