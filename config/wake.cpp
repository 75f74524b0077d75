// The wake routine a room's [rooms.wake] stands for. Built here, once, so
// that the loader, the hub and the tests all see the same steps.
#include <algorithm>

#include "model.hpp"

namespace nursery::config {

namespace {

StepConfig step(Seconds at, Role role, Seconds fade, DeviceValues values, const Location& where) {
  return StepConfig{at, role, fade, std::move(values), where};
}

}  // namespace

RoutineConfig wake_routine(const WakeConfig& wake, const SafetyConfig& safety,
                           std::optional<Level> night_volume) {
  RoutineConfig r;
  r.id = wake.routine;
  r.name = "Wake light";
  r.kind = RoutineKind::Wake;
  r.where = wake.where;
  // The first step holds the night colour for an instant, the second rises
  // from it: a fade starts from the values of the step before it.
  constexpr Seconds kHold{1};
  const Seconds rise = wake.ramp - kHold;
  DeviceValues night;
  night.light_on = true;
  night.brightness = Level::permille(kVisibleLevelStep);
  night.color_temp = safety.light.night_max_color_temp;
  r.steps.push_back(step(Seconds{0}, Capability::Light, Seconds{0}, night, wake.where));
  DeviceValues ceiling;
  ceiling.brightness = safety.light.wake_max_brightness;
  ceiling.color_temp = safety.light.wake_max_color_temp;
  r.steps.push_back(step(kHold, Capability::Light, rise, ceiling, wake.where));

  // White noise: from the night's volume down to nothing by the wake time,
  // then off. Volume only, never "on": a sound a parent switched off in the
  // night stays off.
  if (night_volume) {
    DeviceValues from;
    from.volume = *night_volume;
    r.steps.push_back(step(Seconds{0}, Capability::Sound, Seconds{0}, from, wake.where));
    DeviceValues to;
    to.volume = Level{};
    r.steps.push_back(step(kHold, Capability::Sound, rise, to, wake.where));
  }
  DeviceValues off;
  off.sound_on = false;
  r.steps.push_back(step(wake.ramp, Capability::Sound, Seconds{0}, off, wake.where));

  if (wake.ok_to_wake > Seconds{0}) {
    DeviceValues ok;
    ok.brightness = wake.ok_to_wake_brightness;
    ok.color_temp = wake.ok_to_wake_color_temp;
    r.steps.push_back(step(wake.ramp, Capability::Light, Seconds{0}, ok, wake.where));
    DeviceValues dark;
    dark.light_on = false;
    r.steps.push_back(
        step(wake.ramp + wake.ok_to_wake, Capability::Light, Seconds{0}, dark, wake.where));
  }
  std::stable_sort(r.steps.begin(), r.steps.end(),
                   [](const StepConfig& a, const StepConfig& b) { return a.at < b.at; });
  return r;
}

}  // namespace nursery::config
