#include "wake_light.hpp"

#include "daemon/schedule/civil_time.hpp"

namespace nursery {

std::optional<WakePlan> plan_wake(const config::WakeConfig& wake, const date::time_zone& zone,
                                  TimePoint bedtime) {
  const auto ramp = std::chrono::duration_cast<Duration>(wake.ramp);
  if (wake.night_length) {
    const TimePoint at = bedtime + std::chrono::duration_cast<Duration>(*wake.night_length);
    return WakePlan{wake.routine, at - ramp, at};
  }
  const date::sys_days first{schedule::local_date(zone, bedtime)};
  for (int d = 0; d <= 2; ++d) {
    const date::year_month_day day{first + date::days{d}};
    const auto minutes = wake.by_weekday[date::weekday{date::sys_days{day}}.c_encoding()];
    if (!minutes) continue;
    const auto at =
        schedule::resolve_local(zone, day, schedule::TimeOfDay{std::chrono::minutes{*minutes}}).at;
    if (at - ramp > bedtime) return WakePlan{wake.routine, at - ramp, at};
  }
  return std::nullopt;
}

}  // namespace nursery
