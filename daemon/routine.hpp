#pragma once
// A routine's timeline as pure functions of routine time ("elapsed": time since
// the start, less pauses, plus skips). Nothing here keeps state or reads a
// clock: the desired state of every device is a function of
// (routine, start, pauses, now), so resuming after a pause, a restart or a
// crash is recomputing, never replaying.
// Pure: any thread, nothing throws.

#include <optional>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "run_store.hpp"

namespace nursery {

// Routine time of `run` at hub time `now`. A pause still open counts up to now.
Duration routine_elapsed(const RunRecord& run, TimePoint now);
// The time `run` has spent paused up to `until` (its end, or now).
Duration paused_time(const RunRecord& run, TimePoint until);
bool is_paused(const RunRecord& run);

// The stretch of a role's timeline that one step governs: from its offset,
// values move from `from` to `to` over the fade, then stay at `to`. Only
// the role's own fields are set.
struct Segment {
  Role role = Capability::Light;
  int step = 0;  // index into the routine's steps (sorted by offset)
  Duration begin{0};
  Duration end{0};
  DeviceValues from;
  DeviceValues to;

  // Values at routine time t (begin <= t). Levels move linearly, rounded to
  // the nearest thousandth; switching on rises from the lowest visible level
  // (1 % for a light, nothing for sound and massage); switching off falls
  // to 0 and switches off at the end; a track, pattern or colour change
  // takes effect at once.
  DeviceValues at(Duration t) const;
  bool fading_at(Duration t) const { return t < end; }
};

class Timeline {
 public:
  explicit Timeline(const config::RoutineConfig& routine);

  const config::RoutineConfig& routine() const { return *routine_; }
  int step_count() const { return static_cast<int>(routine_->steps.size()); }
  // When the last step's fade ends.
  Duration duration() const { return duration_; }
  // Index of the last step that has begun; 0 before the first.
  int step_index(Duration elapsed) const;
  // Index of the last step of `role` that has begun, or -1.
  int last_step_of(Role role, Duration elapsed) const;
  // Offset of the first step that begins after `elapsed`.
  std::optional<Duration> next_step_at(Duration elapsed) const;
  // The governing segment of a role, if any step of that role has begun.
  std::optional<Segment> segment(Role role, Duration elapsed) const;
  // The index of the step at which the role last switched on, while it is
  // on at `elapsed`: the wish a massage session or a sound's auto-off
  // answers to.
  std::optional<int> switched_on_step(Role role, Duration elapsed) const;

 private:
  const config::RoutineConfig* routine_;
  Duration duration_{0};
};

// What a person can see change: levels to whole percent, colour to 25 K.
DeviceValues quantize(DeviceValues values);
// A capability switched off is sent only "off": its levels are remembered,
// not set.
DeviceValues as_command(DeviceValues values);
// Routine time until a software fade's quantized value next changes.
std::optional<Duration> next_visible_change(const Segment& segment, Duration elapsed);

}  // namespace nursery
