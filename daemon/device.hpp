#pragma once
// The device model as plugins see it. A plugin creates Device objects from
// [[devices]] blocks; it talks back to the core only through DeviceHost.
// Thread: every method runs on the loop thread. Nothing here throws: a device
// that cannot be reached reports itself unavailable instead.

#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "config/values.hpp"
#include "log.hpp"

namespace nursery {

struct DeviceCommand {
  DeviceValues values;
  // How long the change should take. Sent only to devices with a native
  // transition; the engine steps other devices in software.
  Duration transition{0};
  // Massager only: how long this session may still run. A device with its
  // own timer is given it, so the massage ends even if the hub dies.
  std::optional<Duration> session;
};

class DeviceHost {
 public:
  virtual ~DeviceHost() = default;
  virtual Clock& clock() = 0;
  virtual Logger logger(std::string domain) = 0;
  // Wall time as a parent reads it: "20:15:00" in the hub's time zone.
  virtual std::string local_time(TimePoint t) const = 0;
  // The state the device says it is in. A state the core did not command is
  // a manual override (a wall switch, another app).
  virtual void report_state(std::string_view device_id, const DeviceValues& observed) = 0;
  virtual void report_availability(std::string_view device_id, bool available) = 0;
};

class Device {
 public:
  Device(std::string id, std::string name, std::string room)
      : id_(std::move(id)), name_(std::move(name)), room_(std::move(room)) {}
  virtual ~Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& room() const { return room_; }

  virtual std::string_view driver() const = 0;
  virtual Capabilities capabilities() const = 0;
  // True when the device fades by itself given DeviceCommand::transition.
  virtual bool native_transition() const = 0;
  // Called once the host knows every device: begin talking to the device
  // (connect, subscribe) and report what is known of its state.
  virtual void start() {}
  // Sends the command; the device answers later (or at once) via
  // DeviceHost::report_state. Values the device lacks are ignored.
  virtual void apply(const DeviceCommand& command) = 0;

 private:
  std::string id_;
  std::string name_;
  std::string room_;
};

}  // namespace nursery
