#include "property_observer.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config/loader.hpp"

namespace nursery::testing {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// "In any rolling 60 minutes" (safety-defaults.md).
constexpr Duration kRollingWindow = 60min;
constexpr Duration kTick = 1ms;

// What a simulated device plays, from its `kind` ("light+sound").
Capabilities kind_capabilities(const config::DeviceConfig& c) {
  auto it = c.options.find("kind");
  if (it == c.options.end()) return 0;
  const auto* text = std::get_if<std::string>(&it->second.value);
  if (!text) return 0;
  Capabilities caps = 0;
  if (text->find("light") != std::string::npos) caps |= bit(Capability::Light);
  if (text->find("sound") != std::string::npos) caps |= bit(Capability::Sound);
  if (text->find("massager") != std::string::npos) caps |= bit(Capability::Massager);
  return caps;
}

Duration latency_of(const config::DeviceConfig& c) {
  auto it = c.options.find("latency");
  if (it == c.options.end()) return Duration{0};
  const auto* text = std::get_if<std::string>(&it->second.value);
  if (!text) return Duration{0};
  return duration_cast<Duration>(config::parse_duration(*text).value_or(0s));
}

std::optional<int> looser(std::optional<int> a, std::optional<int> b) {
  if (!a || !b) return std::nullopt;  // one of them does not limit
  return std::max(*a, *b);
}

std::string pct(int permille) { return fmt::format("{}%", permille / 10.0); }

}  // namespace

std::string Breach::to_string() const {
  return fmt::format("{} {}: {}: {}", format_utc(at), device, rule, detail);
}

// --- limits -------------------------------------------------------------------

Duration PropertyObserver::session_limit(TimePoint at) const {
  const auto& m = limits_.massage;
  if (!birth_) return m.session_under_6_weeks;  // unknown age: the youngest
  const auto secs = floor<seconds>(at);
  sys_days today = floor<days>(secs);
  if (zone_) {
    const auto local_now = date::make_zoned(zone_, secs).get_local_time();
    today = sys_days{floor<days>(local_now).time_since_epoch()};
  }
  if (today < *birth_ + days(42)) return m.session_under_6_weeks;
  // Three calendar months (the 31st of a short month counts from its end).
  const year_month_day b{*birth_};
  year_month_day three = b + months(3);
  if (!three.ok()) three = three.year() / three.month() / last;
  if (today < sys_days{three}) return m.session_6_to_12_weeks;
  return m.session_from_3_months;
}

bool PropertyObserver::night(const Room& r, TimePoint t) const {
  return r.night_since && t >= *r.night_since && t < *r.night_since + limits_.light.night_window;
}

PropertyObserver::Caps PropertyObserver::caps_now(const Dev& d, TimePoint t) const {
  Caps c;
  c.volume = limits_.sound.max_volume.permille();
  c.intensity = limits_.massage.max_intensity.permille();
  c.start_intensity = limits_.massage.start_intensity.permille();
  auto it = rooms_.find(d.room);
  if (it != rooms_.end()) {
    if (night(it->second, t)) {
      c.brightness = limits_.light.night_max_brightness.permille();
      c.color_temp = limits_.light.night_max_color_temp;
    } else if (it->second.waking_since && t >= *it->second.waking_since) {
      c.brightness = limits_.light.wake_max_brightness.permille();
      c.color_temp = limits_.light.wake_max_color_temp;
    }
  }
  return c;
}

PropertyObserver::Caps PropertyObserver::loosest(Caps c, const Caps& p) {
  c.volume = looser(c.volume, p.volume);
  c.intensity = looser(c.intensity, p.intensity);
  c.start_intensity = looser(c.start_intensity, p.start_intensity);
  c.brightness = looser(c.brightness, p.brightness);
  c.color_temp = looser(c.color_temp, p.color_temp);
  return c;
}

PropertyObserver::Caps PropertyObserver::caps_effective(const Dev& d, TimePoint t) const {
  if (d.prev_caps && t < d.caps_grace_until) return loosest(caps_now(d, t), *d.prev_caps);
  return caps_now(d, t);
}

PropertyObserver::Caps PropertyObserver::caps_when_sent(const Dev& d, std::uint64_t sent_seq,
                                                        TimePoint at) const {
  if (d.prev_caps && sent_seq < d.caps_changed_seq) return loosest(caps_now(d, at), *d.prev_caps);
  return caps_now(d, at);
}

void PropertyObserver::tighten(Dev& d, TimePoint now) {
  d.prev_caps = caps_effective(d, now);
  d.caps_grace_until = now + d.latency;
  d.caps_changed_at = now;
  d.caps_changed_seq = ++seq_;
}

void PropertyObserver::tighten_room(const std::string& room, TimePoint now) {
  for (auto& [id, d] : devices_)
    if (d.room == room) tighten(d, now);
}

// --- inputs -------------------------------------------------------------------

void PropertyObserver::configure(const config::Config& config, TimePoint now) {
  flush(now);
  const bool limits_changed = !configs_.empty();  // every reload may change them
  if (limits_changed)
    for (auto& [id, d] : devices_) {
      tighten(d, now);
      d.deadline_floor = std::max(d.deadline_floor, now + d.latency);
    }
  limits_ = config.safety;
  birth_ = config.child.birth_date;
  try {
    zone_ = date::locate_zone(config.hub.time_zone);
  } catch (const std::exception&) {
    zone_ = nullptr;
  }
  std::map<std::string, config::DeviceConfig> next;
  for (const auto& c : config.devices) next.emplace(c.id, c);
  // Devices that leave, or change: made safe first (while the hub can reach them).
  for (auto& [id, old] : configs_) {
    auto it = next.find(id);
    if (it != next.end() && config::same_device(it->second, old)) continue;
    Dev& d = devices_[id];
    const bool running =
        (has(d.caps, Capability::Massager) && d.state.is_on(Capability::Massager)) ||
        (has(d.caps, Capability::Sound) && d.state.is_on(Capability::Sound));
    if (running && !blind(d)) d.must_be_off_by = now + d.latency;
    if (!blind(d)) begin_blind(d, now);
    d.supervised = false;
  }
  for (auto& [id, c] : next) {
    auto found = configs_.find(id);
    const bool same = found != configs_.end() && config::same_device(found->second, c);
    auto [it, inserted] = devices_.try_emplace(id);
    Dev& d = it->second;
    if (inserted) {
      d.caps = kind_capabilities(c);
      d.state = DeviceValues::off(d.caps);
      d.since = now;
    }
    d.room = c.room;
    d.latency = latency_of(c);
    if (same) continue;
    // A new device object: the hub knows nothing of it until its first report.
    d.supervised = true;
    d.unheard = true;
    d.unheard_since = now;
  }
  configs_ = std::move(next);
  for (const auto& r : config.rooms) rooms_.try_emplace(r.id);
}

void PropertyObserver::hub_started(TimePoint now) {
  flush(now);
  for (auto& [id, d] : devices_) {
    d.sent.clear();  // the old hub's devices died with what was on its way
    if (!d.supervised) continue;
    if (!blind(d)) begin_blind(d, now);
    d.unheard = true;
    d.unheard_since = now;
  }
  for (auto& [id, r] : rooms_) r.wake_at.reset();  // the scheduler sets it again
}

void PropertyObserver::begin_blind(Dev& d, TimePoint now) {
  if (d.massage_on_since) {
    if (now > *d.massage_on_since) d.massage_periods.emplace_back(*d.massage_on_since, now);
    d.massage_on_since.reset();
  }
  d.massage_switched_while_blind = false;
  d.sound_switched_while_blind = false;
}

void PropertyObserver::end_blind(Dev& d, TimePoint now) {
  d.excused_until = std::max(d.excused_until, now + d.latency);
  d.reported.clear();
  if (d.state.is_on(Capability::Massager)) {
    // Switched on while nobody could see: a new start, from when the hub
    // heard of it. On since before: the same session goes on.
    const bool open = d.session_start && now < *d.session_start + session_limit(*d.session_start);
    if ((d.massage_switched_while_blind || !d.session_start) && !open) d.session_start = now;
    d.massage_on_since = now;
  }
  if (d.state.is_on(Capability::Sound)) {
    if (d.sound_switched_while_blind || !d.sound_on_since) d.sound_on_since = now;
  } else {
    d.sound_on_since.reset();
  }
}

void PropertyObserver::physical(const std::string& id, const DeviceValues& state,
                                PhysicalCause cause, TimePoint now) {
  auto [it, inserted] = devices_.try_emplace(id);
  Dev& d = it->second;
  if (inserted) {
    d.caps = (state.light_on ? bit(Capability::Light) : 0) |
             (state.sound_on ? bit(Capability::Sound) : 0) |
             (state.massager_on ? bit(Capability::Massager) : 0);
    d.state = DeviceValues::off(d.caps);
    d.since = now;
  }
  judge(id, d, now);
  std::pair<std::uint64_t, TimePoint> sent{++seq_, now};
  if (cause == PhysicalCause::Command && !d.sent.empty()) {
    sent.first = d.sent.front();
    d.sent.pop_front();
  }
  const DeviceValues before = d.state;
  d.state = state;
  d.reported.clear();
  if (cause == PhysicalCause::ByHand && !blind(d)) {
    begin_blind(d, now);
    d.unheard = true;
    d.unheard_since = now;
  } else if (cause == PhysicalCause::ByHand) {
    d.unheard = true;
    d.unheard_since = std::max(d.unheard_since, now);
  }
  const bool massager_on = state.is_on(Capability::Massager);
  const bool massager_was_on = before.is_on(Capability::Massager);
  const bool sound_on = state.is_on(Capability::Sound);
  const bool sound_was_on = before.is_on(Capability::Sound);
  if (!sound_on) d.sound_on_since.reset();
  if (d.must_be_off_by && !massager_on && !sound_on) d.must_be_off_by.reset();

  if (blind(d)) {
    if (massager_on && !massager_was_on) d.massage_switched_while_blind = true;
    if (sound_on && !sound_was_on) d.sound_switched_while_blind = true;
    // What the hub sends is the hub's, even while it has not heard the
    // device: the fields a command changes are judged as it lands.
    if (cause == PhysicalCause::Command && d.supervised)
      check_caps(id, d, now, changed_fields(state, before), sent);
    return;
  }
  if (massager_on && !massager_was_on) {
    const bool open = d.session_start && now < *d.session_start + session_limit(*d.session_start);
    if (!open) {
      d.session_start = now;
      // A session the hub switches on starts gently.
      const Caps caps = caps_when_sent(d, sent.first, now);
      if (cause == PhysicalCause::Command && state.intensity && caps.start_intensity &&
          state.intensity->permille() > *caps.start_intensity)
        breach(id, d, now, "massage_start_intensity",
               fmt::format("a session started at intensity {} (start cap {})",
                           pct(state.intensity->permille()), pct(*caps.start_intensity)));
    }
    d.massage_on_since = now;
  }
  if (!massager_on && massager_was_on && d.massage_on_since) {
    if (now > *d.massage_on_since) d.massage_periods.emplace_back(*d.massage_on_since, now);
    d.massage_on_since.reset();
  }
  if (sound_on && !sound_was_on) d.sound_on_since = now;
  // No flash: what a command sets must be within the caps the moment it lands.
  if (cause == PhysicalCause::Command) check_caps(id, d, now, changed_fields(state, before), sent);
}

void PropertyObserver::heard(const std::string& id, TimePoint generated, TimePoint now) {
  auto it = devices_.find(id);
  if (it == devices_.end()) return;
  Dev& d = it->second;
  if (!d.unheard || generated < d.unheard_since) return;
  judge(id, d, now);
  d.unheard = false;
  if (!blind(d)) end_blind(d, now);
}

void PropertyObserver::sent(const std::string& id, TimePoint now) {
  auto it = devices_.find(id);
  if (it != devices_.end()) it->second.sent.push_back(++seq_);
  (void)now;
}

void PropertyObserver::reachable(const std::string& id, bool reachable, TimePoint now) {
  auto it = devices_.find(id);
  if (it == devices_.end()) return;
  Dev& d = it->second;
  judge(id, d, now);
  if (!reachable) {
    if (!blind(d)) begin_blind(d, now);
    d.reachable = false;
    d.must_be_off_by.reset();  // the hub cannot reach it to make it safe
    d.sent.clear();            // what was on its way is lost
    return;
  }
  if (d.reachable) return;
  d.reachable = true;
  d.unheard = true;  // until the hub hears it again
  d.unheard_since = now;
}

void PropertyObserver::routine_started(const std::string& room, config::RoutineKind kind,
                                       TimePoint now) {
  flush(now);
  Room& r = rooms_[room];
  if (kind == config::RoutineKind::Other) {
    r.waking_since.reset();
    return;
  }
  tighten_room(room, now);
  if (kind == config::RoutineKind::Bedtime) {
    r.night_since = now;
    r.waking_since.reset();
  } else {
    r.night_since.reset();
    r.waking_since = now;
  }
}

void PropertyObserver::routine_ended(const std::string& room, TimePoint now) {
  flush(now);
  rooms_[room].waking_since.reset();
}

void PropertyObserver::wake_time(const std::string& room, std::optional<TimePoint> at,
                                 TimePoint now) {
  flush(now);
  rooms_[room].wake_at = at;
}

void PropertyObserver::shift(Duration by, TimePoint now) {
  flush(now);
  auto move = [by](TimePoint& t) { t += by; };
  auto move_opt = [by](std::optional<TimePoint>& t) {
    if (t) *t += by;
  };
  for (auto& [id, d] : devices_) {
    move(d.since);
    move(d.unheard_since);
    move(d.excused_until);
    move(d.caps_grace_until);
    move(d.deadline_floor);
    move_opt(d.session_start);
    move_opt(d.massage_on_since);
    move_opt(d.sound_on_since);
    move_opt(d.must_be_off_by);
    move(d.caps_changed_at);
    for (auto& [a, b] : d.massage_periods) {
      a += by;
      b += by;
    }
  }
  for (auto& [id, r] : rooms_) move_opt(r.night_since);  // night lasts real time
  // A wake time is a wall time: the jump may bring it, or take it, before
  // when a sound went on; the hub can act on that only from now.
  for (auto& [id, d] : devices_)
    d.deadline_floor = std::max(d.deadline_floor, now + by + d.latency);
}

void PropertyObserver::flush(TimePoint now) {
  for (auto& [id, d] : devices_) judge(id, d, now);
}

// --- judging ------------------------------------------------------------------

Duration PropertyObserver::massage_in_window(const Dev& d, TimePoint end) const {
  const TimePoint from = end - kRollingWindow;
  Duration total{0};
  auto add = [&](TimePoint a, TimePoint b) {
    a = std::max(a, from);
    b = std::min(b, end);
    if (b > a) total += b - a;
  };
  for (const auto& [a, b] : d.massage_periods) add(a, b);
  if (d.massage_on_since) add(*d.massage_on_since, end);
  return total;
}

void PropertyObserver::check_caps(const std::string& id, Dev& d, TimePoint at,
                                  const DeviceValues& s,
                                  std::optional<std::pair<std::uint64_t, TimePoint>> sent) {
  const Caps c = sent ? caps_when_sent(d, sent->first, at) : caps_effective(d, at);
  const char* when = sent ? "set" : "held";
  if (has(d.caps, Capability::Sound) && s.volume && c.volume && s.volume->permille() > *c.volume)
    breach(id, d, at, "volume",
           fmt::format("volume {} {} (cap {})", pct(s.volume->permille()), when, pct(*c.volume)));
  if (has(d.caps, Capability::Massager) && s.intensity && c.intensity &&
      s.intensity->permille() > *c.intensity)
    breach(id, d, at, "massage_intensity",
           fmt::format("intensity {} {} (cap {})", pct(s.intensity->permille()), when,
                       pct(*c.intensity)));
  if (has(d.caps, Capability::Light)) {
    auto r = rooms_.find(d.room);
    const bool is_night = r != rooms_.end() && night(r->second, at);
    const std::string which = is_night ? "night" : "wake";
    if (s.brightness && c.brightness && s.brightness->permille() > *c.brightness)
      breach(
          id, d, at, which + "_brightness",
          fmt::format("brightness {} {} with the light {} (cap {})", pct(s.brightness->permille()),
                      when, s.is_on(Capability::Light) ? "on" : "off", pct(*c.brightness)));
    if (s.color_temp && c.color_temp && *s.color_temp > *c.color_temp)
      breach(id, d, at, which + "_color_temp",
             fmt::format("{} K {} with the light {} (cap {} K)", *s.color_temp, when,
                         s.is_on(Capability::Light) ? "on" : "off", *c.color_temp));
  }
}

void PropertyObserver::judge(const std::string& id, Dev& d, TimePoint now) {
  if (now <= d.since) return;
  if (d.must_be_off_by && now > *d.must_be_off_by)
    breach(id, d, *d.must_be_off_by, "made_safe_before_leaving",
           "it left the hub (or its config changed) with its massager or sound still on");
  if (!blind(d)) {
    const TimePoint from = std::max(d.since, d.excused_until);
    if (now > from) {
      // The caps at every moment of (from, now): where the grace of a change
      // ends, where night ends, and the ends.
      std::vector<TimePoint> samples{from + kTick, d.caps_grace_until + kTick, now - kTick};
      if (auto r = rooms_.find(d.room); r != rooms_.end() && r->second.night_since)
        samples.push_back(*r->second.night_since + limits_.light.night_window - kTick);
      for (TimePoint t : samples)
        if (t > from && t < now) check_caps(id, d, t, d.state, std::nullopt);

      if (d.state.is_on(Capability::Massager) && d.massage_on_since && d.session_start) {
        const Duration limit = session_limit(*d.session_start);
        const TimePoint due = std::max(*d.session_start + limit + d.latency, d.deadline_floor);
        if (now > std::max(from, due))
          breach(id, d, std::max(from, due), "massage_session",
                 fmt::format(
                     "still on {} after its session began (limit {} min)",
                     fmt::format("{} s", duration_cast<seconds>(now - *d.session_start).count()),
                     duration_cast<minutes>(limit).count()));
        const Duration budget = session_limit(now) + d.latency;
        const Duration used = massage_in_window(d, now);
        if (used > budget && now > std::max(from, d.deadline_floor))
          breach(id, d, now, "massage_rolling_hour",
                 fmt::format("{} s of massage in the last 60 min (at most {} s)",
                             duration_cast<seconds>(used).count(),
                             duration_cast<seconds>(budget).count()));
      }
      if (d.state.is_on(Capability::Sound) && d.sound_on_since) {
        TimePoint due = *d.sound_on_since + limits_.sound.auto_off;
        auto r = rooms_.find(d.room);
        if (r != rooms_.end() && r->second.wake_at && *d.sound_on_since < *r->second.wake_at)
          due = std::min(due, *r->second.wake_at);
        due = std::max(due + d.latency, d.deadline_floor);
        if (now > std::max(from, due))
          breach(id, d, std::max(from, due), "sound_auto_off",
                 fmt::format("sound on since {} still playing (due off at {})",
                             format_utc(*d.sound_on_since), format_utc(due)));
      }
    }
  }
  // Forget massage that no rolling window can hold any more.
  const TimePoint keep = now - 2 * kRollingWindow;
  std::erase_if(d.massage_periods, [&](const auto& p) { return p.second < keep; });
  d.since = now;
}

void PropertyObserver::breach(const std::string& id, Dev& d, TimePoint at, std::string rule,
                              std::string detail) {
  if (!d.reported.insert(rule).second) return;  // once per state
  breaches_.push_back({at, id, std::move(rule), std::move(detail)});
}

std::string PropertyObserver::local(TimePoint t) const { return format_utc(t); }

}  // namespace nursery::testing
