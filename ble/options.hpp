#pragma once
// The BLE manager's options, with the defaults it ships with. Every duration
// can be shortened for tests; nothing in the library has a hidden timeout.
// Thread: any (plain data).

#include <chrono>
#include <functional>
#include <string>

namespace nursery::ble {

using std::chrono::milliseconds;

struct Options {
  // Empty: the system bus (honouring DBUS_SYSTEM_BUS_ADDRESS). Otherwise a
  // D-Bus address ("unix:path=/run/…"), as tests use.
  std::string bus_address;

  // Device1.Connect, as a D-Bus call timeout.
  milliseconds connect_timeout{30'000};
  // Connected, waiting for ServicesResolved.
  milliseconds resolve_timeout{30'000};
  // One GATT operation (ReadValue, WriteValue, StartNotify). A device that
  // does not answer in time is disconnected and reconnected.
  milliseconds gatt_timeout{10'000};
  // After le-connection-abort-by-local: how long to wait for BlueZ to report
  // the disconnection before the retry, and how many retries in a row.
  milliseconds abort_wait{5'000};
  int abort_retries = 3;

  // Reconnect backoff for other failures: exponential from min to max,
  // shortened by up to `backoff_jitter` of itself at random.
  milliseconds backoff_min{1'000};
  milliseconds backoff_max{60'000};
  double backoff_jitter = 0.5;

  // One scan for a device BlueZ does not know; then backoff, then again.
  milliseconds search_window{10'000};
  // A GATT operation answered InProgress is retried this often, this many times.
  milliseconds in_progress_retry{20};
  int in_progress_retries = 50;

  // GetManagedObjects, discovery calls, Disconnect.
  milliseconds bluez_call_timeout{10'000};
  // Reaching BlueZ again after an error that no signal will announce the end
  // of (access denied, no answer), and reconnecting to a lost bus.
  milliseconds retry_min{1'000};
  milliseconds retry_max{30'000};

  // Uniform in [0, 1), for jitter. Empty: the manager's own generator.
  std::function<double()> random;
};

}  // namespace nursery::ble
