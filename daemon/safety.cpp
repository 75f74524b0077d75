#include "safety.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nursery {
namespace {

constexpr const char* kVolumeCapReason =
    "volume cap for infant hearing (sound machines exceed 50 dBA at full volume)";
constexpr const char* kIntensityCapReason = "massage intensity cap";

std::string switch_label(Capability c, Capabilities all) {
  if (all == bit(c)) return "on";
  return fmt::format("{} on", role_name(c));
}

}  // namespace

namespace {

// On-time of `periods` inside [from, to).
Duration on_time(const std::vector<OnPeriod>& periods, TimePoint from, TimePoint to) {
  Duration total{0};
  for (const auto& p : periods) {
    const TimePoint a = std::max(p.from, from);
    const TimePoint b = std::min(p.to, to);
    if (b > a) total += b - a;
  }
  return total;
}

}  // namespace

Duration rolling_allowance(const std::vector<OnPeriod>& periods, TimePoint now, Duration window,
                           Duration budget) {
  // Running y more from now, the window ending at now + y holds the past
  // on-time from now + y - window, plus y. That grows with y (past time
  // leaves the window no faster than y is added), so the longest y within
  // the budget is found by bisection.
  auto fits = [&](Duration y) { return on_time(periods, now + y - window, now) + y <= budget; };
  if (!fits(Duration{0})) return Duration{0};
  Duration lo{0}, hi = budget;
  if (fits(hi)) return hi;
  while (hi - lo > Duration{1}) {
    const Duration mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

TimePoint next_allowance(const std::vector<OnPeriod>& periods, TimePoint now, Duration window,
                         Duration budget, Duration at_least) {
  at_least = std::min(at_least, budget);
  auto enough = [&](TimePoint t) {
    return rolling_allowance(periods, t, window, budget) >= at_least;
  };
  if (enough(now)) return now;
  TimePoint lo = now, hi = now + window;  // a whole window later nothing counts any more
  while (hi - lo > Duration{1000}) {
    const TimePoint mid = lo + (hi - lo) / 2;
    (enough(mid) ? hi : lo) = mid;
  }
  return hi;
}

bool SafetyDecision::transient() const {
  return std::any_of(clamps.begin(), clamps.end(), [](const Clamp& c) { return c.transient; });
}

Safety::Safety(config::SafetyConfig limits) : limits_(std::move(limits)) {}

Duration Safety::massage_session_limit(std::optional<std::chrono::sys_days> birth,
                                       std::chrono::sys_days today) const {
  const auto& m = limits_.massage;
  if (!birth) return m.session_under_6_weeks;
  using namespace std::chrono;
  if (today - *birth < weeks(6)) return m.session_under_6_weeks;
  // "3 months" is calendar months: a baby of 12 weeks and a few days is not
  // yet 3 months old, and keeps the shorter session (the safe side).
  year_month_day three_months = year_month_day(*birth) + months(3);
  if (!three_months.ok()) three_months = three_months.year() / three_months.month() / last;
  if (today < sys_days(three_months)) return m.session_6_to_12_weeks;
  return m.session_from_3_months;
}

SafetyDecision Safety::check(const DeviceCommand& requested, const SafetySituation& s) const {
  SafetyDecision d{requested, {}, false};
  DeviceValues& v = d.command.values;
  v = v.only(s.capabilities);
  auto clamp_level = [&](std::optional<Level>& field, std::string_view name, Level limit,
                         std::string reason, bool transient = false) {
    if (field && *field > limit) {
      d.clamps.push_back(
          {std::string(name), describe(*field), describe(limit), std::move(reason), transient});
      field = limit;
    }
  };
  auto on_after = [&](Capability c) { return v.on(c).value_or(s.current.is_on(c)); };
  auto turning_on = [&](Capability c) { return v.on(c) == true && !s.current.is_on(c); };
  auto refuse_on = [&](Capability c, std::string reason) {
    d.clamps.push_back({switch_label(c, s.capabilities), "on", "off", std::move(reason), false});
    v.erase(v.only(bit(c)));
    v.on(c) = false;
    // A level the device holds beyond its cap (set on it by hand) is brought
    // within it in the same command: it would play at it when next on.
    auto held_within = [&](std::optional<Level>& field, const std::optional<Level>& held,
                           std::string_view name, Level cap, const char* why) {
      if (!held || *held <= cap) return;
      field = held;
      clamp_level(field, name, cap, why);
    };
    if (c == Capability::Sound)
      held_within(v.volume, s.current.volume, "volume", limits_.sound.max_volume, kVolumeCapReason);
    if (c == Capability::Massager)
      held_within(v.intensity, s.current.intensity, "intensity", limits_.massage.max_intensity,
                  kIntensityCapReason);
  };

  if (has(s.capabilities, Capability::Sound)) {
    // A setting staged while off is clamped as if on: the next switch-on,
    // from anywhere, plays at it.
    clamp_level(v.volume, "volume", limits_.sound.max_volume, kVolumeCapReason);
    if (on_after(Capability::Sound) && s.sound && s.sound->may_run <= Duration::zero())
      refuse_on(Capability::Sound, s.sound->refusal);
  }

  if (has(s.capabilities, Capability::Massager)) {
    const auto& m = limits_.massage;
    if (on_after(Capability::Massager)) {
      const MassageAllowance allowance = s.massage.value_or(MassageAllowance{});
      if (allowance.may_run <= Duration::zero()) {
        refuse_on(Capability::Massager, allowance.refusal.empty()
                                            ? std::string("the massage session is over")
                                            : allowance.refusal);
        d.command.massage_session.reset();
      } else {
        // Not within an open session: a new one, whether the hub switches it
        // on now or someone already did (its own button, another app).
        const bool starting = !allowance.session_open;
        d.starts_massage_session = starting;
        d.command.massage_session = requested.massage_session
                                        ? std::min(*requested.massage_session, allowance.may_run)
                                        : allowance.may_run;
        // Switching on without an intensity starts at the one it had: bring
        // that within the cap in the same command.
        if (turning_on(Capability::Massager) && !v.intensity && s.current.intensity &&
            *s.current.intensity > (starting ? m.start_intensity : m.max_intensity))
          v.intensity = s.current.intensity;
        // Not knowing what it has (a command that timed out), a session
        // starts at the start level, not at whatever the device holds.
        if (turning_on(Capability::Massager) && starting && !v.intensity && !s.current.intensity)
          v.intensity = m.start_intensity;
        if (starting)
          clamp_level(v.intensity, "intensity", m.start_intensity,
                      "a massage session starts gently, then may rise", true);
        else
          clamp_level(v.intensity, "intensity", m.max_intensity, kIntensityCapReason);
      }
    } else {
      clamp_level(v.intensity, "intensity", m.max_intensity, kIntensityCapReason);
    }
  }

  if (has(s.capabilities, Capability::Light) && s.night) {
    const auto& l = limits_.light;
    // No bright flash: a light switched on at night gets its night level
    // and colour in the same command.
    if (turning_on(Capability::Light)) {
      if (!v.brightness)
        v.brightness =
            std::min(s.current.brightness.value_or(l.night_max_brightness), l.night_max_brightness);
      if (!v.color_temp &&
          (!s.current.color_temp || *s.current.color_temp > l.night_max_color_temp))
        v.color_temp = l.night_max_color_temp;
    }
    // Values staged while off are clamped as if on.
    clamp_level(v.brightness, "brightness", l.night_max_brightness,
                "night light cap: even dim light before sleep suppresses melatonin");
    if (v.color_temp && *v.color_temp > l.night_max_color_temp) {
      d.clamps.push_back({"color_temp", fmt::format("{} K", *v.color_temp),
                          fmt::format("{} K", l.night_max_color_temp),
                          "warm (amber) light only at night", false});
      v.color_temp = l.night_max_color_temp;
    }
  }
  if (has(s.capabilities, Capability::Light) && s.waking && !s.night) {
    const auto& l = limits_.light;
    clamp_level(v.brightness, "brightness", l.wake_max_brightness,
                "the wake light rises no higher: a gentle sunrise, not a floodlight");
    if (v.color_temp && *v.color_temp > l.wake_max_color_temp) {
      d.clamps.push_back({"color_temp", fmt::format("{} K", *v.color_temp),
                          fmt::format("{} K", l.wake_max_color_temp), "the wake light's ceiling",
                          false});
      v.color_temp = l.wake_max_color_temp;
    }
  }
  if (!d.clamps.empty() && v.on(Capability::Massager) == false) d.command.massage_session.reset();
  return d;
}

}  // namespace nursery
