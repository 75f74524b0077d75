#pragma once
// The one safety choke point. Every command from every source (routine, API,
// MQTT, the panel, the hub's own timers) is passed through Safety::check before
// it reaches a device. check() is a pure function of the limits, the request
// and the device's situation; the timers that enforce auto-off live in the Hub
// and send their own commands through check() too.
// Thread: any (no state is mutated). Never throws.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "device.hpp"
#include "hub_api.hpp"

namespace nursery {

struct SafetySituation {
  Capabilities capabilities = 0;
  DeviceValues current;  // the device's last known state
  bool night = false;    // the room is between a bedtime routine's start and the wake light
  TimePoint now;
  // Massager: when the running (or requested) session began; for a device
  // that is off this is "now" unless the routine says the session began earlier.
  std::optional<TimePoint> session_started;
};

struct SafetyDecision {
  DeviceCommand command;      // what may be sent
  std::vector<Clamp> clamps;  // what was changed, with the reason
};

class Safety {
 public:
  Safety(config::SafetyConfig limits, std::optional<std::chrono::sys_days> birth_date);

  SafetyDecision check(const DeviceCommand& requested, const SafetySituation& situation) const;

  // Massage session length for the child's age on `today` (the youngest
  // bracket when the birth date is unknown).
  Duration massage_session_limit(TimePoint today) const;
  Duration sound_auto_off() const { return limits_.sound.auto_off; }
  const config::SafetyConfig& limits() const { return limits_; }

 private:
  config::SafetyConfig limits_;
  std::optional<std::chrono::sys_days> birth_date_;
};

}  // namespace nursery
