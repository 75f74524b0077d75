#pragma once
// What happens in the hub, as typed events on one subscription point. The
// MQTT bridge and the panel's live view stand on these: nothing polls.
// HubEvents is owned outside the hub (by the daemon), so subscriptions
// survive reloads.
// Thread: the loop thread. Subscribers must not throw.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "clock.hpp"
#include "device.hpp"
#include "hub_api.hpp"
#include "signal.hpp"

namespace nursery::event {

enum class RoutineChange { Started, Step, Paused, Resumed, Ended };
std::string_view routine_change_name(RoutineChange change);

struct Routine {
  RoutineChange change = RoutineChange::Started;
  std::string room;
  RoutineStatus status;            // as it is after the change
  std::string routine;             // the routine's id, also when it has just ended
  std::optional<Outcome> outcome;  // Ended
  CommandSource source = CommandSource::Routine;
};

// The device's observed state changed (or was first learnt).
struct DeviceState {
  std::string room;
  std::string device;
  DeviceValues state;
};

struct DeviceAvailability {
  std::string room;
  std::string device;
  Availability availability = Availability::Unknown;
  std::string reason;
};

struct DeviceBattery {
  std::string room;
  std::string device;
  int percent = 0;
};

struct Clamped {
  std::string room;
  std::string device;
  CommandSource source = CommandSource::Routine;
  std::vector<Clamp> clamps;
};

struct Override {
  std::string room;
  std::string device;
  Capabilities held = 0;  // what the routine leaves alone until its next step
  DeviceValues seen;
};

struct AutoOff {
  std::string room;
  std::string device;
  Capability capability = Capability::Massager;
  std::string reason;
};

struct CommandResult {
  std::string room;
  std::string device;
  CommandId id = 0;
  CommandSource source = CommandSource::Routine;
  CommandOutcome outcome = CommandOutcome::Done;
  std::string reason;
};

// The hub's configuration was reloaded: rooms and devices may have changed.
struct Reloaded {};

// The store stopped or started taking writes (a full disk): `problem` is
// empty once everything is stored again.
struct StoreState {
  std::string problem;
};

}  // namespace nursery::event

namespace nursery {

using HubEvent = std::variant<event::Routine, event::DeviceState, event::DeviceAvailability,
                              event::DeviceBattery, event::Clamped, event::Override, event::AutoOff,
                              event::CommandResult, event::Reloaded, event::StoreState>;

class HubEvents {
 public:
  [[nodiscard]] Subscription subscribe(std::function<void(const HubEvent&)> callback) {
    return signal_.subscribe(std::move(callback));
  }
  void publish(const HubEvent& event) const { signal_.emit(event); }

 private:
  Signal<const HubEvent&> signal_;
};

}  // namespace nursery
