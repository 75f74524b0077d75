#pragma once
// A BlueZ for tests: a private dbus-daemon and python3-dbusmock's bluez5
// template on it as if it were the system bus, extended with LE devices and
// GATT (tests/ble/bluez_le.py). Each test starts its own, so tests run in
// parallel. Link `nursery_bluez_mock`; it needs no gtest.
//
//   BluezMock mock;                                  // bus + bluetoothd + hci0
//   mock.add_device({.address = "F3:53:11:AA:BB:CC", .name = "Rest",
//                    .services = {{kService, {{kTx}, {kFeedback}}}}});
//   mock.on_write("F3:53:11:AA:BB:CC", kTx, "notify(uuid, b'OK')");
//   BleManager ble(io, log, {.bus_address = mock.bus_address()});
//
// Device behaviour is python run inside the mock: on_write()/on_read() bodies
// see `value`, `options`, `address`, `uuid`, `notify(uuid, data, delay_ms=0)`
// (sent after the reply), and whatever exec_python() defined. exec_python()
// runs in the same namespace, which also has `mock` (the mock's state:
// mock.notify(address, uuid, data), mock.set_value, mock.device(address)),
// `drop_link(address)`, `later(ms, fn)`, `dbus`, `GLib`, `time`, `json`.
// A function defined in a hook body does not see the body's locals; define
// emulators with exec_python() and call them from the hook.
//
// Every call the mock answers is recorded with the time it arrived and the
// time it was answered, on CLOCK_MONOTONIC (steady_clock here).
//
// It starts and kills only its own processes, by pid, and every wait has a
// generous deadline. Thread: the test's thread; calls into the mock are
// synchronous D-Bus calls, so the code under test must not be running on
// this thread meanwhile (drive its io_context between calls).
// Throws std::runtime_error (with the mock's output) when the mock cannot be
// set up or refuses a request.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nursery::bletest {

using Bytes = std::vector<std::uint8_t>;
using std::chrono::milliseconds;

Bytes bytes(std::string_view text);

// A dbus-daemon of our own (session configuration), listening on `socket`
// when given, else where the configuration says.
class BusDaemon {
 public:
  explicit BusDaemon(const std::filesystem::path& log_file, const std::string& socket = {});
  ~BusDaemon();
  BusDaemon(const BusDaemon&) = delete;
  BusDaemon& operator=(const BusDaemon&) = delete;
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
};

struct CharacteristicSpec {
  std::string uuid;
  std::vector<std::string> flags = {"read", "write", "notify"};
  Bytes value;
};

struct ServiceSpec {
  std::string uuid;
  std::vector<CharacteristicSpec> characteristics;
};

struct DeviceSpec {
  std::string address;
  std::string name;
  std::string adapter = "hci0";
  int rssi = -60;
  std::vector<std::string> advertised_uuids;
  std::map<std::uint16_t, Bytes> manufacturer_data;
  std::vector<ServiceSpec> services;
  std::optional<int> battery;
  bool known = true;        // BlueZ has the device now; false: a scan finds it
  bool advertising = true;  // seen by scans
  bool connected = false;   // already connected and resolved (as a crash leaves it)
};

struct MockRecord {
  double t = 0;  // arrival, CLOCK_MONOTONIC seconds
  std::string path;
  std::string interface;  // "event" for things the mock did by itself
  std::string method;     // e.g. WriteValue, Connect, Disconnected, Notified
  std::string args;       // JSON of the options or filter, if any
  Bytes value;
  double replied = 0;   // when answered (0: never)
  std::string outcome;  // "ok", "error:<name>", "pending"
  std::chrono::steady_clock::time_point at() const;
  std::chrono::steady_clock::time_point replied_at() const;
};

class BluezMock {
 public:
  struct Options {
    bool start_bluez = true;  // false: a bus with no BlueZ on it
    std::vector<std::string> adapters = {"hci0"};
    std::string bus_socket;  // a fixed socket path for the bus
    bool start_bus = true;   // false: start_bus() later
  };

  BluezMock();
  explicit BluezMock(Options options);
  ~BluezMock();
  BluezMock(const BluezMock&) = delete;
  BluezMock& operator=(const BluezMock&) = delete;

  const std::string& bus_address() const;
  const std::filesystem::path& dir() const { return dir_; }
  // Starts the bus (and bluetoothd unless Options::start_bluez is false);
  // on `socket` if given.
  void start_bus(const std::string& socket = {});

  // bluetoothd. start_bluez() brings back every adapter and device specified
  // so far (disconnected), their hooks, delays and python; behaviours set
  // with set_*() and failures are not replayed.
  void start_bluez();
  void stop_bluez();
  void restart_bluez();
  bool bluez_running() const { return bluez_pid_ > 0; }

  void add_adapter(const std::string& name);
  // Returns the device's object path.
  std::string add_device(const DeviceSpec& spec);
  // BlueZ forgets the device (InterfacesRemoved); it still advertises.
  void remove_device(const std::string& address);
  // BlueZ knows it again at once.
  void restore_device(const std::string& address);
  std::string device_path(const std::string& address) const;

  // --- behaviour ---
  void fail_connect(const std::string& address, const std::string& error_name,
                    const std::string& message, int times);
  void set_connect_timing(const std::string& address, milliseconds connect, milliseconds resolve);
  void set_connect_silent(const std::string& address, bool silent);  // Connect never answers
  void set_gatt_silent(const std::string& address, bool silent);     // GATT never answers
  void set_advertising(const std::string& address, bool advertising);
  void fail_gatt(const std::string& address, const std::string& uuid, const std::string& method,
                 const std::string& error_name, const std::string& message, int times);
  void set_reply_delay(const std::string& address, const std::string& uuid, milliseconds delay);
  void on_write(const std::string& address, const std::string& uuid, const std::string& python);
  void on_read(const std::string& address, const std::string& uuid, const std::string& python);
  void exec_python(const std::string& code);
  void notify(const std::string& address, const std::string& uuid, const Bytes& value,
              milliseconds delay = milliseconds(0));
  void set_value(const std::string& address, const std::string& uuid, const Bytes& value);
  void drop_link(const std::string& address);
  void set_battery(const std::string& address, int percent);
  void set_advertise_interval(milliseconds interval);

  // --- what happened ---
  std::vector<MockRecord> records() const;
  // Records of `method`, for the device at `address` (its objects) if given.
  std::vector<MockRecord> calls(std::string_view method, std::string_view address = {}) const;
  void clear_records();
  // The mock's output so far (tracebacks end up here), for failure messages.
  std::string log() const;

 private:
  struct Hook {
    std::string address, uuid, python;
    bool write;
  };
  struct Delay {
    std::string address, uuid;
    milliseconds delay;
  };
  class Client;

  void create_device(const DeviceSpec& spec, bool as_restarted);
  void wait_for_name(bool present, milliseconds timeout);

  Options options_;
  std::filesystem::path dir_;
  std::unique_ptr<BusDaemon> bus_;
  std::unique_ptr<Client> client_;
  pid_t bluez_pid_ = -1;
  int starts_ = 0;
  std::filesystem::path bluez_log_;
  std::vector<std::string> adapters_;
  std::vector<DeviceSpec> devices_;
  std::vector<Hook> hooks_;
  std::vector<Delay> delays_;
  std::vector<std::string> python_;
  std::optional<milliseconds> advertise_interval_;
};

}  // namespace nursery::bletest
