#include "safety.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace nursery {
namespace {

std::string minutes(Duration d) {
  return fmt::format("{} min", std::chrono::duration_cast<std::chrono::minutes>(d).count());
}

}  // namespace

Safety::Safety(config::SafetyConfig limits, std::optional<std::chrono::sys_days> birth_date)
    : limits_(std::move(limits)), birth_date_(birth_date) {}

Duration Safety::massage_session_limit(TimePoint today) const {
  const auto& m = limits_.massage;
  if (!birth_date_) return m.session_under_6_weeks;
  using namespace std::chrono;
  const sys_days day = floor<days>(today);
  if (day - *birth_date_ < weeks(6)) return m.session_under_6_weeks;
  // "3 months" is calendar months: a baby of 12 weeks and a few days is not
  // yet 3 months old, and keeps the shorter session (the safe side).
  year_month_day three_months = year_month_day(*birth_date_) + months(3);
  if (!three_months.ok()) three_months = three_months.year() / three_months.month() / last;
  if (day < sys_days(three_months)) return m.session_6_to_12_weeks;
  return m.session_from_3_months;
}

SafetyDecision Safety::check(const DeviceCommand& requested, const SafetySituation& s) const {
  SafetyDecision d{requested, {}};
  DeviceValues& v = d.command.values;
  auto clamp_fraction = [&](std::optional<double>& field, std::string_view name, double limit,
                            std::string reason) {
    if (field && *field > limit) {
      d.clamps.push_back({std::string(name), describe_fraction(*field), describe_fraction(limit),
                          std::move(reason)});
      field = limit;
    }
  };
  const bool turning_on = v.on == true && s.current.on != true;

  if (has(s.capabilities, Capability::Sound)) {
    clamp_fraction(v.volume, "volume", limits_.sound.max_volume,
                   "volume cap for infant hearing (sound machines exceed 50 dBA at full volume)");
  }

  if (has(s.capabilities, Capability::Massager)) {
    const bool on_after = v.on.value_or(s.current.on.value_or(false));
    if (on_after) {
      const Duration limit = massage_session_limit(s.now);
      const TimePoint began = s.session_started.value_or(s.now);
      const Duration left = limit - (s.now - began);
      if (left <= Duration::zero()) {
        d.clamps.push_back(
            {"on", "on", "off",
             fmt::format("the {} massage session for the child's age is over", minutes(limit))});
        v = DeviceValues::off();
        d.command.session.reset();
        d.command.transition = Duration{0};
      } else {
        d.command.session = requested.session ? std::min(*requested.session, left) : left;
        if (turning_on && !v.intensity && s.current.intensity &&
            *s.current.intensity > limits_.massage.start_intensity)
          v.intensity = s.current.intensity;  // so the start cap below applies
        clamp_fraction(v.intensity, "intensity",
                       turning_on ? limits_.massage.start_intensity : limits_.massage.max_intensity,
                       turning_on ? "a massage session starts gently" : "massage intensity cap");
      }
    }
  }

  if (has(s.capabilities, Capability::Light) && s.night) {
    const bool on_after = v.on.value_or(s.current.on.value_or(false));
    const auto& l = limits_.light;
    if (on_after) {
      // No bright flash: a light switched on at night gets its night level
      // and colour in the same command.
      if (turning_on) {
        if (!v.brightness) v.brightness = s.current.brightness.value_or(l.night_max_brightness);
        if (!v.color_temp &&
            (!s.current.color_temp || *s.current.color_temp > l.night_max_color_temp))
          v.color_temp = s.current.color_temp.value_or(l.night_max_color_temp);
      }
      clamp_fraction(v.brightness, "brightness", l.night_max_brightness,
                     "night light cap: even dim light before sleep suppresses melatonin");
      if (v.color_temp && *v.color_temp > l.night_max_color_temp) {
        d.clamps.push_back({"color_temp", fmt::format("{} K", *v.color_temp),
                            fmt::format("{} K", l.night_max_color_temp),
                            "warm (amber) light only at night"});
        v.color_temp = l.night_max_color_temp;
      }
    }
  }
  return d;
}

}  // namespace nursery
