#pragma once
// The devices of the hub and what is known of each: what the hub has
// sent (after safety), what the device reports, its availability, battery
// and link quality, and the commands in flight with their timeouts. Each
// device gets its own DeviceHost bound to it: once a device is removed, what
// its driver still reports is dropped.
//
// Devices decides what a report *means* — an answer, a value mid-fade, or a
// change made by someone else — and tells its listener (the hub); what to
// do about it is the hub's.
// Thread: the loop thread. Never throws.

#include <date/tz.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "device.hpp"
#include "expected.hpp"
#include "hub_api.hpp"
#include "log.hpp"
#include "services.hpp"

namespace nursery {

// Creates a device from its config block (the plugin registry, in main).
using DeviceFactory =
    std::function<Expected<std::unique_ptr<Device>>(const config::DeviceConfig&, DeviceHost&)>;

struct PendingCommand {
  CommandId id = 0;
  DeviceValues values;  // what was sent
  DeviceValues before;  // what the hub believed the device had, for those fields
  TimePoint sent_at;
  TimePoint deadline;
  CommandSource source = CommandSource::Routine;
};

class DeviceSlot {
 public:
  Device& device() { return *device_; }
  const Device& device() const { return *device_; }
  const config::DeviceConfig& config() const { return config_; }
  const std::string& id() const { return config_.id; }
  const std::string& room() const { return config_.room; }
  Capabilities capabilities() const { return device_->capabilities(); }

  // What the hub believes the device has: every command sent and every
  // report received, merged in the order they happened.
  const DeviceValues& known() const { return known_; }
  const DeviceValues& observed() const { return observed_; }
  const DeviceValues& asked() const { return asked_; }
  Availability availability() const { return availability_; }
  const std::string& availability_reason() const { return availability_reason_; }
  bool available() const { return availability_ == Availability::Available; }
  std::optional<int> battery() const { return battery_; }
  std::optional<int> link_quality() const { return link_quality_; }
  const CommandStatus& last_command() const { return last_command_; }
  const std::deque<PendingCommand>& pending() const { return pending_; }

 private:
  friend class Devices;
  class Handle;
  config::DeviceConfig config_;
  std::unique_ptr<Handle> handle_;  // outlives device_: destroyed after it
  std::unique_ptr<Device> device_;
  DeviceValues known_;
  DeviceValues observed_;
  DeviceValues asked_;
  Availability availability_ = Availability::Unknown;
  std::string availability_reason_;
  std::optional<int> battery_;
  std::optional<int> link_quality_;
  std::deque<PendingCommand> pending_;
  CommandStatus last_command_;
  std::unique_ptr<Alarm> timeout_;
  bool stopping_ = false;
};

// What the hub hears from the devices.
class DeviceListener {
 public:
  virtual ~DeviceListener() = default;
  // `overridden` holds the reported fields that no command of the hub
  // explains: someone else changed the device. Empty for answers, values
  // mid-fade and first reports.
  virtual void device_reported(DeviceSlot& slot, const DeviceReport& report,
                               const DeviceValues& overridden) = 0;
  virtual void device_availability(DeviceSlot& slot, Availability before) = 0;
  virtual void device_command_ended(DeviceSlot& slot, const PendingCommand& command,
                                    CommandOutcome outcome, const std::string& reason) = 0;
  virtual void device_battery(DeviceSlot& slot) = 0;
};

struct DeviceServices {
  PubSub* pubsub = nullptr;
  Ble* ble = nullptr;
};

class Devices {
 public:
  friend class DeviceSlot;
  Devices(Clock& clock, LogSink& sink, DeviceListener& listener, DeviceServices services);
  ~Devices();
  Devices(const Devices&) = delete;
  Devices& operator=(const Devices&) = delete;

  void set_time_zone(const date::time_zone* zone) { zone_ = zone; }
  std::string local_time(TimePoint t) const;

  // Creates the device. A driver that cannot create it (a config the
  // loader could not check, a missing service) gives a device that stays
  // unavailable with the reason: only a broken config stops the daemon.
  DeviceSlot& add(const config::DeviceConfig& config, const DeviceFactory& factory);
  void start(DeviceSlot& slot);
  // Stops the device (Device::stop) and destroys it once it has stopped or
  // `deadline` has passed; then calls `done`. From the call on, whatever the
  // driver reports or posts is dropped.
  void remove(const std::string& id, Duration deadline, std::function<void()> done);

  DeviceSlot* find(std::string_view id);
  const DeviceSlot* find(std::string_view id) const;
  std::vector<DeviceSlot*> all();
  std::vector<const DeviceSlot*> all() const;
  std::vector<DeviceSlot*> in_room(std::string_view room);

  // Sends `command` (its id is set here) and remembers it until the device
  // answers or it times out. Returns the id.
  CommandId send(DeviceSlot& slot, DeviceCommand command, CommandSource source);
  // What the hub asked of the device, after safety (for the status).
  void note_asked(DeviceSlot& slot, const DeviceValues& values) { slot.asked_.merge(values); }
  // Forgets these fields of what the device is believed to have: the next
  // command sends them again.
  void forget(DeviceSlot& slot, const DeviceValues& fields) { slot.known_.erase(fields); }
  void forget_all(DeviceSlot& slot) { slot.known_ = {}; }

 private:
  void on_report(DeviceSlot& slot, const DeviceReport& report);
  void on_result(DeviceSlot& slot, CommandId id, CommandOutcome outcome, std::string reason);
  void on_availability(DeviceSlot& slot, Availability availability, std::string reason);
  void arm_timeout(DeviceSlot& slot);
  DeviceValues overridden_fields(const DeviceSlot& slot, const DeviceReport& report) const;

  Clock& clock_;
  LogSink& sink_;
  Logger log_;
  DeviceListener& listener_;
  DeviceServices services_;
  const date::time_zone* zone_ = nullptr;
  std::vector<std::unique_ptr<DeviceSlot>> slots_;
  std::vector<std::unique_ptr<DeviceSlot>> stopping_;
  CommandId next_command_ = 1;
};

}  // namespace nursery
