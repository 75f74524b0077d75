// Resident memory of the real nurseryd with BLE on: the BlueZ mock on a
// private bus as its system bus, a gatt-massager and a Hatch Rest
// connected (notifications started, state read), the simulated light,
// then idle. Prints the daemon's VmRSS. A benchmark, not a test.
//
//   build/tests/ble/nurseryd_ble_rss [--idle-seconds N]

#include <fmt/format.h>

#include <fstream>
#include <thread>

#include "tests/ble/device_emulators.hpp"
#include "tests/integration/daemon_process.hpp"

using namespace nursery;
using namespace std::chrono_literals;

namespace {

long vm_rss_kb(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  int idle = 5;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--idle-seconds") idle = std::atoi(argv[i + 1]);
  bletest::BluezMock mock;
  bletest::define_emulators(mock);
  bletest::add_massager(mock, "F3:53:11:AA:BB:51");
  bletest::add_hatch_rest(mock, "F3:53:11:AA:BB:52");
  it::TestHome home;
  home.write_config(R"(
[hub]
name = "RSS"
[[rooms]]
id = "nursery"
[[devices]]
id = "night-light"
room = "nursery"
driver = "simulated"
kind = "light"
[[devices]]
id = "massager"
room = "nursery"
driver = "gatt-massager"
address = "F3:53:11:AA:BB:51"
[[devices]]
id = "rest"
room = "nursery"
driver = "hatch-rest"
address = "F3:53:11:AA:BB:52"
[[routines]]
id = "bedtime"
  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true
)");
  it::DaemonProcess daemon(home);
  if (!daemon.start_and_wait({{}, {{"DBUS_SYSTEM_BUS_ADDRESS", mock.bus_address()}}, false})) {
    fmt::print(stderr, "nurseryd did not start\n{}", daemon.log());
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto s = it::status_of(daemon);
    if (it::device_in(s, "massager")["available"] == true &&
        it::device_in(s, "rest")["available"] == true)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      fmt::print(stderr, "the BLE devices never connected\n{}", daemon.log());
      return 1;
    }
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(std::chrono::seconds(idle));  // the idle being measured
  const long kb = vm_rss_kb(daemon.pid());
  fmt::print("nurseryd VmRSS with BLE on, 2 BLE devices connected, idle {} s: {:.1f} MB ({} kB)\n",
             idle, kb / 1024.0, kb);
  return 0;
}
