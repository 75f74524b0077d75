#pragma once
// A routine's timeline as pure functions of routine time ("elapsed": time since
// the start, less pauses, plus skips). Nothing here keeps state or reads a
// clock: the desired state of every device is a function of
// (routine, start, pauses, now), so resuming after a pause, a restart or a
// crash is recomputing, never replaying.

#include <optional>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "run_store.hpp"

namespace nursery {

// Routine time of `run` at wall time `now`.
Duration routine_elapsed(const RunRecord& run, TimePoint now);

// The stretch of a role's timeline that one step governs: from its offset,
// values move from `from` to `to` over the fade, then stay at `to`.
struct Segment {
  int step = 0;  // index into the routine's steps (sorted by offset)
  Duration begin{0};
  Duration end{0};
  DeviceValues from;
  DeviceValues to;

  // Values at routine time t (begin <= t). Levels move linearly; switching on
  // rises from 0, switching off falls to 0 and switches off at the end; a
  // track, pattern or colour change takes effect at once.
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
  // Offset of the first step that begins after `elapsed`.
  std::optional<Duration> next_step_at(Duration elapsed) const;
  // The governing segment of a role, if any step of that role has begun.
  std::optional<Segment> segment(Role role, Duration elapsed) const;
  // Routine time at which the role last switched on (for massage sessions).
  std::optional<Duration> switched_on_at(Role role, Duration elapsed) const;

 private:
  const config::RoutineConfig* routine_;
  Duration duration_{0};
};

// What a person can see change: 1 % of a level, 25 K of colour.
DeviceValues quantize(DeviceValues values);
// The fields of `wanted` that `sent` lacks or has otherwise.
DeviceValues changed_fields(const DeviceValues& wanted, const DeviceValues& sent);
// A switched-off device is sent only "off": its levels are remembered, not set.
DeviceValues as_command(DeviceValues values);
// Routine time until a software fade's quantized value next changes.
std::optional<Duration> next_visible_change(const Segment& segment, Duration elapsed);

}  // namespace nursery
