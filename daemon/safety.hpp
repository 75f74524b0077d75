#pragma once
// The limits, as a pure function. Every command from every source passes
// the SafetyGate (safety_gate.hpp), which knows each device's sessions and
// timers and asks Safety::check what of a command may reach the device.
// Thread: any (no state is mutated). Never throws.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "device.hpp"
#include "hub_api.hpp"

namespace nursery {

// The wish behind a switch-on, per capability: "run 12 step 2" for a
// routine step; absent (or empty) for a manual command, always a new wish.
using Intents = std::map<Capability, std::string>;

// What of the room's state the light limits depend on.
struct RoomSituation {
  bool night = false;   // between a bedtime routine's start and the wake light
  bool waking = false;  // a wake routine runs
};

// How long a massager may run from now, as the gate computed it from the
// session window and the rolling budget.
struct MassageAllowance {
  // A session has begun and its window is open: switching on again is not
  // a new session, so the gentle-start cap does not apply.
  bool session_open = false;
  Duration may_run{0};  // 0: it may not run now
  std::string refusal;  // why not, with until when, when may_run is 0
};

// How long a sound machine may play from now (its auto-off).
struct SoundAllowance {
  Duration may_run{0};
  std::string refusal;
};

struct SafetySituation {
  Capabilities capabilities = 0;
  DeviceValues current;  // what the device is known to have
  bool night = false;    // the room is between a bedtime routine's start and the wake light
  bool waking = false;   // a wake routine runs in the room: its ceiling applies
  std::optional<MassageAllowance> massage;  // for a device with a massager
  std::optional<SoundAllowance> sound;      // for a device with sound
};

struct SafetyDecision {
  DeviceCommand command;      // what may be sent
  std::vector<Clamp> clamps;  // what was changed, with the reason
  bool starts_massage_session = false;
  bool transient() const;  // some clamp applies only now
};

// One stretch of time a device was on, [from, to).
struct OnPeriod {
  TimePoint from;
  TimePoint to;
};

// The longest a device may run from `now` so that its on-time inside every
// window of length `window` stays within `budget`. `periods` end at or
// before `now` (a period still on is passed as ending at now).
Duration rolling_allowance(const std::vector<OnPeriod>& periods, TimePoint now, Duration window,
                           Duration budget);
// The earliest time from `now`, the device staying off meanwhile, at which
// at least `at_least` (at most `budget`) may run.
TimePoint next_allowance(const std::vector<OnPeriod>& periods, TimePoint now, Duration window,
                         Duration budget, Duration at_least);

class Safety {
 public:
  explicit Safety(config::SafetyConfig limits);

  SafetyDecision check(const DeviceCommand& requested, const SafetySituation& situation) const;

  // Massage session length for a child born on `birth` on the local
  // calendar day `today` (the youngest bracket when the birth date is
  // unknown: the safe side).
  Duration massage_session_limit(std::optional<std::chrono::sys_days> birth,
                                 std::chrono::sys_days today) const;
  const config::SafetyConfig& limits() const { return limits_; }

 private:
  config::SafetyConfig limits_;
};

}  // namespace nursery
