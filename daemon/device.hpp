#pragma once
// The device model as drivers (plugins/) see it. A plugin creates a Device
// from a [[devices]] block and gets a DeviceHost bound to that one device;
// it never sees the hub.
//
// Real devices answer late or never, report intermediate values during a
// fade, and go away and come back. So:
// - every command has an id, and the driver answers it (done, failed with a
//   reason); the hub times out a command that gets no answer;
// - a report says what the device has, whether it is mid-transition, and
//   which command it answers, so that a report in the middle of a fade or a
//   late acknowledgement is not taken for a manual override (a wall switch
//   still is);
// - availability is a state with a reason, battery and link quality are
//   reported where the device has them.
//
// Thread: every method of both interfaces runs on the loop thread. Nothing
// here throws: a device that cannot be reached reports itself unavailable.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "config/model.hpp"
#include "config/values.hpp"
#include "log.hpp"
#include "services.hpp"

namespace nursery {

using CommandId = std::uint64_t;

struct DeviceCommand {
  CommandId id = 0;     // set by the hub; answer it with DeviceHost::command_result
  DeviceValues values;  // only fields of capabilities the device has
  // How long the change should take. Non-zero only for a capability with a
  // native transition; the engine steps the others in software.
  Duration transition{0};
  // Massager: how long this session may still run. A device with its own
  // timer is given it, so the massage ends even if the hub dies.
  std::optional<Duration> massage_session;
};

enum class CommandOutcome { Done, Failed, TimedOut };
std::string_view command_outcome_name(CommandOutcome outcome);

struct DeviceReport {
  DeviceValues observed;             // what the device says it has (any subset)
  bool in_transition = false;        // levels are on their way to a commanded target
  std::optional<CommandId> answers;  // the command this state results from, when known
};

enum class Availability { Unknown, Connecting, Available, Unavailable };
std::string_view availability_name(Availability availability);

class DeviceHost {
 public:
  virtual ~DeviceHost() = default;
  virtual Clock& clock() = 0;
  virtual Logger logger() = 0;  // domain "device"
  // Wall time as a parent reads it: "20:15:00" in the hub's time zone.
  virtual std::string local_time(TimePoint t) const = 0;
  // Runs `fn` later on the loop, unless the device has been destroyed.
  virtual void post(std::function<void()> fn) = 0;

  virtual void report(const DeviceReport& report) = 0;
  virtual void command_result(CommandId id, CommandOutcome outcome, std::string reason = {}) = 0;
  virtual void availability(Availability availability, std::string reason = {}) = 0;
  virtual void battery(int percent) = 0;
  virtual void link_quality(int percent) = 0;  // 0..100

  // Services; null when the daemon runs without them (no [mqtt], no BLE build).
  virtual PubSub* pubsub() = 0;
  virtual Ble* ble() = 0;
};

class Device {
 public:
  explicit Device(const config::DeviceConfig& config)
      : id_(config.id), name_(config.name), room_(config.room) {}
  virtual ~Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& room() const { return room_; }

  virtual std::string_view driver() const = 0;
  virtual Capabilities capabilities() const = 0;
  // True when this capability fades by itself given DeviceCommand::transition.
  virtual bool native_transition(Capability capability) const = 0;
  // How long the hub waits for command_result before the command times out.
  virtual Duration command_timeout() const { return std::chrono::seconds(10); }

  // Called once the hub holds the device: begin talking to it (connect,
  // subscribe) and report availability and what is known of its state.
  virtual void start() = 0;
  // Sends the command; answer it later (or at once) with command_result.
  virtual void apply(const DeviceCommand& command) = 0;
  // An orderly stop before the device is destroyed (reload, shutdown):
  // finish or abandon what is in flight, disconnect, then call `done` —
  // at once or later, on the loop. The hub waits a bounded time.
  virtual void stop(std::function<void()> done) { done(); }

 private:
  std::string id_;
  std::string name_;
  std::string room_;
};

}  // namespace nursery
