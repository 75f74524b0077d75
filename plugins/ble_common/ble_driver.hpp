#pragma once
// What the BLE drivers (gatt-massager, hatch-rest) share: the link options,
// the mapping from the BLE handle's link states to the device's
// availability, battery and link quality, and the command queue.
//
// The queue sends one GATT operation at a time and the next only once the
// previous one is answered: by the peripheral's write response and, for a
// device that acknowledges on a notification (the Hatch Rest's "OK"), by
// that acknowledgement too (see ack()). A command is done when its last
// write is answered, and failed at the first write that is not (refused,
// unanswered, or the link lost on the way); what follows it in the same
// command is not sent.
//
// Availability: Connected is Available; Connecting is Connecting; Searching,
// Disconnected and Unavailable (no BlueZ, no adapter, no permission) are
// Unavailable with the library's reason. Commands while not connected fail
// at once with that reason; the hub sends what must be true again when the
// device is Available (hub.cpp, device_availability), so nothing here
// replays anything.
// Thread: the loop thread. Nothing here throws.

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/driver_spec.hpp"
#include "daemon/device.hpp"

namespace nursery::plugins::ble_common {

// Every BLE device block has these.
inline constexpr config::DriverOptionSpec kAddressOption{"address", config::OptionType::String,
                                                         true};
inline constexpr config::DriverOptionSpec kAdapterOption{"adapter", config::OptionType::String,
                                                         false};

template <typename T>
const T* option(const config::DeviceConfig& device, std::string_view key) {
  auto it = device.options.find(std::string(key));
  return it == device.options.end() ? nullptr : std::get_if<T>(&it->second.value);
}

// True for "F3:53:11:AA:BB:CC" (any case).
bool valid_address(std::string_view text);
// True for a full 128-bit UUID ("6e400001-b5a3-f393-e0a9-e50e24dcca9e") or a
// 16/32-bit short form ("180f").
bool valid_uuid(std::string_view text);
// Two UUIDs in the same 128-bit form, in any case.
bool same_uuid(std::string_view a, std::string_view b);
// Errors for `address` and `adapter`, with their locations.
void validate_link(const config::DeviceConfig& device, std::vector<config::Diagnostic>& out);
// An error at `key`'s location.
void error_at(const config::DeviceConfig& device, std::string_view key, std::string message,
              std::vector<config::Diagnostic>& out);
// RSSI in dBm as a 0..100 link quality: -100 dBm and below 0, -50 and above 100.
int link_quality_of(int rssi);
// "6e 40 01" for logs.
std::string hex(const Bytes& bytes);

struct GattOp {
  enum class Kind { Write, Read };
  Kind kind = Kind::Write;
  std::string uuid;
  Bytes value;       // for a write
  std::string what;  // for logs: "power on"
  // The device acknowledges this write on a notification: wait for ack().
  bool wait_for_ack = false;
};

class BleDriver : public Device {
 public:
  BleDriver(const config::DeviceConfig& config, DeviceHost& host, Duration ack_timeout);
  ~BleDriver() override;

  void start() override;
  void apply(const DeviceCommand& command) override;
  void stop(std::function<void()> done) override;

  // For tests and logs: the link's state.
  std::optional<BleLinkState> link_state() const;

 protected:
  // The operations that carry out `command`, in order; an error refuses it
  // at once (a value the device cannot take).
  virtual Expected<std::vector<GattOp>> plan(const DeviceCommand& command) = 0;
  // Once at start: register notification handlers on `link`.
  virtual void subscribe(BleDevice& link) = 0;
  // Every (re)connect, before anything else is sent: what the device needs
  // (its clock, a read of its state), queued with enqueue(). The device is
  // reported Available once these are done, so that the hub learns what the
  // device has (a massage its own timer ended, a press while away) before it
  // catches the device up.
  virtual void connected() {}
  // The value a Read op returned.
  virtual void read_result(const std::string& uuid, const Bytes& value) {
    (void)uuid;
    (void)value;
  }
  // The values a command leaves the device with, reported when it is done.
  virtual DeviceValues result_of(const DeviceCommand& command) { return command.values; }

  // The device acknowledged the write in flight (ok), or refused it.
  // Ignored when no write waits for an acknowledgement.
  void ack(bool ok, std::string why = {});
  // Queues operations that belong to no command (clock, state reads).
  void enqueue(std::vector<GattOp> ops);
  // A state the device told of: reported as observed, unless a command is
  // in flight (the device's intermediate states are neither a press on it
  // nor the command's result, which is reported when it is done).
  void observed(const DeviceValues& values);

  DeviceHost& host_;
  Logger log_;

 private:
  struct Job {
    std::vector<GattOp> ops;
    std::size_t next = 0;
    std::optional<DeviceCommand> command;
    std::function<void()> then;  // when done or failed (not when the link is lost)
  };
  bool command_queued() const;

  void on_link(const BleLinkEvent& event);
  void pump();
  void op_done(Status status);
  void finish_job(Status status);
  void fail_all(const std::string& why);

  std::string address_;
  std::string adapter_;
  Duration ack_timeout_;
  std::unique_ptr<BleDevice> link_;
  std::deque<Job> jobs_;
  bool busy_ = false;          // an operation is in flight
  bool awaiting_ack_ = false;  // its write is answered; the device's ack is not
  std::unique_ptr<Alarm> ack_alarm_;
  std::uint64_t generation_ = 0;  // bumped when the queue is dropped
  std::optional<BleLinkState> state_;
};

}  // namespace nursery::plugins::ble_common
