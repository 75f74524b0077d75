#include "routine.hpp"

#include <algorithm>
#include <cmath>

namespace nursery {
namespace {

constexpr Duration kMinSoftwareStep{100};

double lerp(double a, double b, double p) { return a + (b - a) * p; }

Level lerp(Level a, Level b, double p) {
  return Level::permille(static_cast<int>(std::lround(lerp(a.permille(), b.permille(), p))));
}

int round_to(int value, int step) {
  return static_cast<int>(std::lround(static_cast<double>(value) / step)) * step;
}

}  // namespace

Duration paused_time(const RunRecord& run, TimePoint until) {
  Duration paused{0};
  for (const auto& p : run.pauses) {
    const TimePoint to = std::min(p.to.value_or(until), until);
    if (to > p.from) paused += to - p.from;
  }
  return paused;
}

bool is_paused(const RunRecord& run) { return !run.pauses.empty() && !run.pauses.back().to; }

Duration routine_elapsed(const RunRecord& run, TimePoint now) {
  const Duration elapsed = (now - run.started_at) - paused_time(run, now) + run.skipped;
  return std::max(elapsed, Duration{0});
}

DeviceValues Segment::at(Duration t) const {
  if (t >= end || end <= begin) return to;
  const double p =
      static_cast<double>((t - begin).count()) / static_cast<double>((end - begin).count());
  const bool turning_on = to.is_on(role) && !from.is_on(role);
  const bool turning_off = to.on(role) == false && from.is_on(role);
  DeviceValues v = to;
  if (turning_off) v.on(role) = true;
  for_each_member([&](const Field& field, auto member) {
    using T = typename std::remove_cvref_t<decltype(v.*member)>::value_type;
    if (field.capability != role || !(to.*member)) return;
    if constexpr (std::is_same_v<T, Level>) {
      // "On at 0 %" is dark on most lights: a light rises from its lowest
      // visible level. Sound and massage fade in from nothing.
      const Level floor =
          Level::permille(field.capability == Capability::Light ? kVisibleLevelStep : 0);
      const Level a =
          turning_on ? std::min(floor, *(to.*member)) : (from.*member).value_or(*(to.*member));
      const Level b = turning_off ? Level{} : *(to.*member);
      v.*member = lerp(a, b, p);
    } else if constexpr (std::is_same_v<T, int>) {
      if (from.*member)
        v.*member = static_cast<int>(std::lround(lerp(*(from.*member), *(to.*member), p)));
    }
  });
  return v;
}

Timeline::Timeline(const config::RoutineConfig& routine) : routine_(&routine) {
  for (const auto& s : routine.steps)
    duration_ = std::max(duration_, std::chrono::duration_cast<Duration>(s.at + s.fade));
}

int Timeline::step_index(Duration elapsed) const {
  int index = 0;
  for (int i = 0; i < step_count(); ++i)
    if (routine_->steps[static_cast<std::size_t>(i)].at <= elapsed) index = i;
  return index;
}

int Timeline::last_step_of(Role role, Duration elapsed) const {
  int index = -1;
  for (int i = 0; i < step_count(); ++i) {
    const auto& s = routine_->steps[static_cast<std::size_t>(i)];
    if (s.at <= elapsed && s.role == role) index = i;
  }
  return index;
}

std::optional<Duration> Timeline::next_step_at(Duration elapsed) const {
  for (const auto& s : routine_->steps)
    if (s.at > elapsed) return std::chrono::duration_cast<Duration>(s.at);
  return std::nullopt;
}

std::optional<Segment> Timeline::segment(Role role, Duration elapsed) const {
  std::optional<Segment> seg;
  for (int i = 0; i < step_count(); ++i) {
    const auto& s = routine_->steps[static_cast<std::size_t>(i)];
    if (s.at > elapsed) break;
    if (s.role != role) continue;
    const Duration begin = s.at;
    DeviceValues from = seg ? seg->at(begin) : DeviceValues{};
    // A fade cut short by this step leaves the device where the fade was.
    DeviceValues to = from;
    to.merge(s.values.only(bit(role)));
    seg = Segment{role, i, begin, begin + std::chrono::duration_cast<Duration>(s.fade), from, to};
  }
  return seg;
}

std::optional<int> Timeline::switched_on_step(Role role, Duration elapsed) const {
  std::optional<int> on_since;
  bool on = false;
  for (int i = 0; i < step_count(); ++i) {
    const auto& s = routine_->steps[static_cast<std::size_t>(i)];
    if (s.at > elapsed) break;
    if (s.role != role) continue;
    const auto& switched = s.values.on(role);
    if (!switched) continue;
    if (*switched && !on) on_since = i;
    if (!*switched) on_since.reset();
    on = *switched;
  }
  return on_since;
}

DeviceValues quantize(DeviceValues v) {
  for_each_field(v, [](const Field&, auto& value) {
    using T = typename std::remove_cvref_t<decltype(value)>::value_type;
    if (!value) return;
    if constexpr (std::is_same_v<T, Level>)
      value = Level::permille(round_to(value->permille(), kVisibleLevelStep));
    else if constexpr (std::is_same_v<T, int>)
      value = round_to(*value, kVisibleColorStep);
  });
  return v;
}

DeviceValues as_command(DeviceValues values) {
  for (Capability c : kAllCapabilities) {
    if (values.on(c) != false) continue;
    const DeviceValues off = DeviceValues::off(bit(c));
    values.erase(values.only(bit(c)));
    values.merge(off);
  }
  return values;
}

std::optional<Duration> next_visible_change(const Segment& segment, Duration elapsed) {
  if (!segment.fading_at(elapsed)) return std::nullopt;
  const DeviceValues a = segment.at(segment.begin);
  const bool turning_off = segment.to.on(segment.role) == false;
  const double span = static_cast<double>((segment.end - segment.begin).count());
  double best = static_cast<double>((segment.end - elapsed).count());
  for_each_member([&](const Field& field, auto member) {
    using T = typename std::remove_cvref_t<decltype(a.*member)>::value_type;
    if (field.capability != segment.role) return;
    double from = 0, to = 0, quantum = 1;
    if constexpr (std::is_same_v<T, Level>) {
      if (!(segment.to.*member)) return;
      from = (a.*member).value_or(Level{}).permille();
      to = turning_off ? 0 : (segment.to.*member)->permille();
      quantum = kVisibleLevelStep;
    } else if constexpr (std::is_same_v<T, int>) {
      if (!(a.*member) || !(segment.to.*member)) return;
      from = *(a.*member);
      to = *(segment.to.*member);
      quantum = kVisibleColorStep;
    } else {
      return;
    }
    const double delta = std::abs(to - from);
    if (delta > 0) best = std::min(best, span * quantum / delta);
  });
  auto step = Duration{static_cast<Duration::rep>(best)};
  return std::max(step, kMinSoftwareStep);
}

}  // namespace nursery
