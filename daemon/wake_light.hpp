#pragma once
// When a room's wake light runs: the wake time from [rooms.wake] (a clock
// time per weekday, or a night length after the bedtime routine began), and
// the start of its sunrise, `ramp` before it. The scheduler starts the wake
// routine at start_at; the hub switches white noise off at wake_at.
// Pure: any thread; nothing here throws.

#include <date/tz.h>

#include <optional>
#include <string>

#include "clock.hpp"
#include "config/model.hpp"

namespace nursery {

struct WakePlan {
  std::string routine;  // the room's wake routine (kind wake)
  TimePoint start_at;   // the sunrise begins: wake_at - ramp
  TimePoint wake_at;    // the ramp ends, the white noise is off
};

// The wake after a bedtime routine that began at `bedtime`: for a clock
// time, the first one (by the weekday of its own local date) whose sunrise
// starts after the bedtime, within two days; a time in a DST gap is the first
// instant after it, one in an overlap its first occurrence. nullopt when no
// day in reach has a wake time.
std::optional<WakePlan> plan_wake(const config::WakeConfig& wake, const date::time_zone& zone,
                                  TimePoint bedtime);

}  // namespace nursery
