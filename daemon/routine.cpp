#include "routine.hpp"

#include <algorithm>
#include <cmath>

namespace nursery {
namespace {

constexpr double kLevelQuantum = 0.01;
constexpr int kColorQuantum = 25;
constexpr Duration kMinSoftwareStep{100};

double lerp(double a, double b, double p) { return a + (b - a) * p; }

template <typename F>
void for_each_level(DeviceValues& v, F&& f) {
  f(v.brightness);
  f(v.volume);
  f(v.intensity);
}

}  // namespace

Duration routine_elapsed(const RunRecord& run, TimePoint now) {
  Duration paused{0};
  for (const auto& p : run.pauses) {
    TimePoint to = p.to.value_or(now);
    if (to > p.from) paused += std::min(to, now) - p.from;
  }
  Duration elapsed = (now - run.started_at) - paused + run.skipped;
  return std::max(elapsed, Duration{0});
}

DeviceValues Segment::at(Duration t) const {
  if (t >= end || end <= begin) return to;
  const double p =
      static_cast<double>((t - begin).count()) / static_cast<double>((end - begin).count());
  const bool turning_on = to.on == true && from.on != true;
  const bool turning_off = to.on == false && from.on == true;
  DeviceValues v = to;
  if (turning_off) v.on = true;
  auto level = [&](std::optional<double> DeviceValues::*field) {
    if (!(to.*field)) return;
    // A light switched on rises from its lowest visible level: "on at 0 %"
    // is dark on most lights. Sound and massage fade in from nothing.
    const double floor = field == &DeviceValues::brightness ? kLevelQuantum : 0.0;
    double a = turning_on ? std::min(floor, *(to.*field)) : (from.*field).value_or(*(to.*field));
    double b = turning_off ? 0.0 : *(to.*field);
    v.*field = lerp(a, b, p);
  };
  level(&DeviceValues::brightness);
  level(&DeviceValues::volume);
  level(&DeviceValues::intensity);
  if (to.color_temp && from.color_temp)
    v.color_temp = static_cast<int>(std::lround(lerp(*from.color_temp, *to.color_temp, p)));
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
    to.merge(s.values);
    seg = Segment{i, begin, begin + std::chrono::duration_cast<Duration>(s.fade), from, to};
  }
  return seg;
}

std::optional<Duration> Timeline::switched_on_at(Role role, Duration elapsed) const {
  std::optional<Duration> on_since;
  bool on = false;
  for (const auto& s : routine_->steps) {
    if (s.at > elapsed) break;
    if (s.role != role || !s.values.on) continue;
    if (*s.values.on && !on) on_since = s.at;
    if (!*s.values.on) on_since.reset();
    on = *s.values.on;
  }
  return on_since;
}

DeviceValues quantize(DeviceValues v) {
  for_each_level(v, [](std::optional<double>& x) {
    if (x) x = std::round(*x / kLevelQuantum) * kLevelQuantum;
  });
  if (v.color_temp) v.color_temp = (*v.color_temp + kColorQuantum / 2) / kColorQuantum * kColorQuantum;
  return v;
}

DeviceValues changed_fields(const DeviceValues& wanted, const DeviceValues& sent) {
  DeviceValues out;
  auto pick = [](auto& o, const auto& w, const auto& s) {
    if (w && w != s) o = w;
  };
  pick(out.on, wanted.on, sent.on);
  pick(out.brightness, wanted.brightness, sent.brightness);
  pick(out.color_temp, wanted.color_temp, sent.color_temp);
  pick(out.volume, wanted.volume, sent.volume);
  pick(out.track, wanted.track, sent.track);
  pick(out.intensity, wanted.intensity, sent.intensity);
  pick(out.pattern, wanted.pattern, sent.pattern);
  return out;
}

DeviceValues as_command(DeviceValues values) {
  if (values.on == false) return DeviceValues::off();
  return values;
}

std::optional<Duration> next_visible_change(const Segment& segment, Duration elapsed) {
  if (!segment.fading_at(elapsed)) return std::nullopt;
  const DeviceValues a = segment.at(segment.begin);
  const DeviceValues b = segment.to.on == false ? DeviceValues{} : segment.to;
  const double span = static_cast<double>((segment.end - segment.begin).count());
  double best = static_cast<double>((segment.end - elapsed).count());
  auto consider = [&](std::optional<double> from, std::optional<double> to, double quantum) {
    double delta = std::abs(to.value_or(0.0) - from.value_or(0.0));
    if (delta <= 0.0) return;
    best = std::min(best, span * quantum / delta);
  };
  consider(a.brightness, b.brightness, kLevelQuantum);
  consider(a.volume, b.volume, kLevelQuantum);
  consider(a.intensity, b.intensity, kLevelQuantum);
  if (a.color_temp && segment.to.color_temp)
    consider(double(*a.color_temp), double(*segment.to.color_temp), kColorQuantum);
  auto step = Duration{static_cast<Duration::rep>(best)};
  return std::max(step, kMinSoftwareStep);
}

}  // namespace nursery
