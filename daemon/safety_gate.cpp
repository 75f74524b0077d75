#include "safety_gate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace nursery {
namespace {

using std::chrono::duration_cast;
using std::chrono::minutes;

// Shorter than this is not a massage, it is a buzz: refused rather than started.
constexpr Duration kMinSession = std::chrono::minutes(1);
// How long what was on is remembered: longer than any limit that counts time
// (a routine lasts at most a day).
constexpr Duration kMemory = std::chrono::hours(24);
constexpr Capability kTimedCapabilities[] = {Capability::Massager, Capability::Sound};

std::string in_minutes(Duration d) {
  return fmt::format("{} min", duration_cast<minutes>(d + std::chrono::seconds(30)).count());
}

std::string in_hours(Duration d) {
  const auto m = duration_cast<minutes>(d).count();
  if (m % 60 == 0) return fmt::format("{} h", m / 60);
  return fmt::format("{} h {} min", m / 60, m % 60);
}

}  // namespace

SafetyGate::SafetyGate(Clock& clock, RunStore& store, Logger log, SafetyEnforcer& enforcer)
    : clock_(clock),
      store_(store),
      log_(std::move(log)),
      enforcer_(enforcer),
      safety_(config::SafetyConfig{}) {}

SafetyGate::~SafetyGate() = default;

void SafetyGate::configure(const config::Config& config) {
  safety_ = Safety(config.safety);
  birth_date_ = config.child.birth_date;
  child_name_ = config.child.name;
  try {
    zone_ = date::locate_zone(config.hub.time_zone);
  } catch (const std::exception&) {
    zone_ = nullptr;  // the loader checked it; UTC rather than fail
  }
  for (auto& [key, t] : timed_)
    if (!t.records.empty() && !t.records.back().off_at)
      arm_auto_off(key.first, key.first, key.second);
}

void SafetyGate::load() {
  const TimePoint now = clock_.now();
  auto usage = store_.usage_since(now - kMemory);
  if (!usage) {
    log_.error("cannot read when devices were last on ({}); counting from now",
               usage.error().message);
    return;
  }
  for (auto& record : *usage) {
    auto capability = parse_role(record.capability);
    if (!capability) continue;
    timed(record.device, *capability).records.push_back(record);
  }
  for (auto& [key, t] : timed_) {
    // Two open records for one device cannot both be right: the hub went
    // down twice without seeing it switch off. The earlier one ends where
    // the later one begins.
    for (std::size_t i = 0; i + 1 < t.records.size(); ++i)
      if (!t.records[i].off_at) {
        t.records[i].off_at = t.records[i + 1].on_at;
        if (t.records[i].id) (void)store_.update_usage(t.records[i]);
      }
    if (!t.records.empty()) t.seen_session = t.records.back().session_start;
    if (!t.records.empty() && !t.records.back().off_at) {
      log_.notice(
          "{}: its {} was on when the hub stopped (since {}); its limits still count from then",
          key.first, role_name(key.second), local_hhmm(t.records.back().on_at));
      arm_auto_off(key.first, key.first, key.second);
    }
  }
}

SafetyGate::Timed& SafetyGate::timed(const std::string& device_id, Capability capability) {
  auto& t = timed_[{device_id, capability}];
  if (!t.auto_off) t.auto_off = clock_.make_alarm();
  return t;
}

const SafetyGate::Timed* SafetyGate::find_timed(const std::string& device_id,
                                                Capability capability) const {
  auto it = timed_.find({device_id, capability});
  return it == timed_.end() ? nullptr : &it->second;
}

std::chrono::sys_days SafetyGate::local_today() const {
  const auto now = std::chrono::floor<std::chrono::seconds>(clock_.now());
  if (!zone_) return std::chrono::floor<date::days>(now);
  const auto local = date::make_zoned(zone_, now).get_local_time();
  return std::chrono::sys_days{std::chrono::floor<date::days>(local).time_since_epoch()};
}

std::string SafetyGate::local_hhmm(TimePoint t) const {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  if (!zone_) return date::format("%H:%M", secs);
  return date::format("%H:%M", date::make_zoned(zone_, secs));
}

Duration SafetyGate::massage_session_limit() const {
  return safety_.massage_session_limit(birth_date_, local_today());
}

std::optional<TimePoint> SafetyGate::session_ends(const std::string& device_id) const {
  const Timed* t = find_timed(device_id, Capability::Massager);
  if (!t || t->records.empty() || t->records.back().off_at) return std::nullopt;
  return clock_.now() + massage_allowance(device_id, t->records.back().intent).may_run;
}

MassageAllowance SafetyGate::massage_allowance(const std::string& device_id,
                                               const std::string& intent) const {
  const TimePoint now = clock_.now();
  const Duration limit = massage_session_limit();
  const Duration window = safety_.limits().massage.rolling_window;
  const Timed* t = find_timed(device_id, Capability::Massager);
  std::vector<OnPeriod> periods;
  if (t)
    for (const auto& r : t->records) periods.push_back({r.on_at, r.off_at.value_or(now)});
  MassageAllowance a;
  auto next_session_at = [&] {
    return local_hhmm(next_allowance(periods, now, window, limit, kMinSession));
  };
  const UsageRecord* latest = t && !t->records.empty() ? &t->records.back() : nullptr;
  if (latest && now < latest->session_start + limit) {
    a.session_open = t->seen_session == latest->session_start;
    a.may_run = std::min(latest->session_start + limit - now,
                         rolling_allowance(periods, now, window, limit));
    if (a.may_run < std::chrono::seconds(1)) {
      a.may_run = Duration{0};
      a.refusal = fmt::format("the {} massage session for {} is over; another can start at {}",
                              in_minutes(limit), child_name_, next_session_at());
    }
    return a;
  }
  if (!intent.empty() && t &&
      std::any_of(t->records.begin(), t->records.end(),
                  [&](const UsageRecord& r) { return r.intent == intent; })) {
    a.refusal = fmt::format(
        "the massage session this routine step started is over ({} for {}); it is not "
        "started again",
        in_minutes(limit), child_name_);
    return a;
  }
  const Duration may = rolling_allowance(periods, now, window, limit);
  if (may < kMinSession) {
    a.refusal = fmt::format(
        "sessions do not chain: in any {} the massager runs at most {} for {}; another session "
        "can start at {}",
        in_minutes(window), in_minutes(limit), child_name_, next_session_at());
    return a;
  }
  a.may_run = may;
  return a;
}

SoundAllowance SafetyGate::sound_allowance(const std::string& device_id,
                                           const std::string& intent) const {
  const TimePoint now = clock_.now();
  const Duration auto_off = safety_.limits().sound.auto_off;
  const Timed* t = find_timed(device_id, Capability::Sound);
  SoundAllowance a;
  if (t && !t->records.empty() && !t->records.back().off_at) {
    const auto [end, why] = sound_end(*t);
    a.may_run = end - now;
    if (a.may_run <= Duration::zero()) {
      a.may_run = Duration{0};
      a.refusal = why;
    }
    return a;
  }
  if (!intent.empty() && t &&
      std::any_of(t->records.begin(), t->records.end(), [&](const UsageRecord& r) {
        return r.intent == intent && r.ended_by == "auto_off";
      })) {
    a.refusal =
        fmt::format("sound auto-off ended this routine's sound after {}; it is not started again",
                    in_hours(auto_off));
    return a;
  }
  a.may_run = auto_off;
  if (t && t->deadline && *t->deadline > now) a.may_run = std::min(auto_off, *t->deadline - now);
  return a;
}

std::pair<TimePoint, std::string> SafetyGate::sound_end(const Timed& t) const {
  const Duration auto_off = safety_.limits().sound.auto_off;
  const UsageRecord& open = t.records.back();
  const TimePoint limit = open.on_at + auto_off;
  if (t.deadline && *t.deadline > open.on_at && *t.deadline < limit)
    return {*t.deadline,
            fmt::format("sound auto-off at the wake time, {}", local_hhmm(*t.deadline))};
  return {limit, fmt::format("sound auto-off: it has played for {}", in_hours(auto_off))};
}

void SafetyGate::set_sound_deadline(const std::string& device_id, std::optional<TimePoint> at) {
  Timed& t = timed(device_id, Capability::Sound);
  t.deadline = at;
  if (!t.records.empty() && !t.records.back().off_at)
    arm_auto_off(device_id, device_id, Capability::Sound);
}

namespace {
std::string intent_of(const Intents& intents, Capability c) {
  auto it = intents.find(c);
  return it == intents.end() ? std::string() : it->second;
}
}  // namespace

SafetyDecision SafetyGate::decide(const GateSubject& device, const DeviceCommand& command,
                                  const Intents& intents, RoomSituation room) const {
  SafetySituation s{device.capabilities, device.known, room.night,
                    room.waking,         std::nullopt, std::nullopt};
  if (has(device.capabilities, Capability::Massager))
    s.massage = massage_allowance(device.id, intent_of(intents, Capability::Massager));
  if (has(device.capabilities, Capability::Sound))
    s.sound = sound_allowance(device.id, intent_of(intents, Capability::Sound));
  return safety_.check(command, s);
}

void SafetyGate::track(const GateSubject& device, const Intents& intents, bool reported) {
  const TimePoint now = clock_.now();
  for (Capability cap : kTimedCapabilities) {
    if (!has(device.capabilities, cap)) continue;
    Timed& t = timed(device.id, cap);
    const bool on = device.known.is_on(cap);
    const bool open = !t.records.empty() && !t.records.back().off_at;
    if (on && !open) {
      UsageRecord r;
      r.device = device.id;
      r.capability = std::string(role_name(cap));
      r.on_at = now;
      r.session_start = now;
      r.intent = intent_of(intents, cap);
      if (cap == Capability::Massager && !t.records.empty() &&
          now < t.records.back().session_start + massage_session_limit())
        r.session_start = t.records.back().session_start;  // the same session goes on
      if (auto id = store_.begin_usage(r))
        r.id = *id;
      else
        log_.error("{}: {}; retrying", device.name, id.error().message);
      t.records.push_back(std::move(r));
      if (!t.records.back().id) store_unstored();
      arm_auto_off(device.id, device.name, cap);
    } else if (!on && open) {
      UsageRecord& r = t.records.back();
      r.off_at = now;
      r.ended_by = t.closing_by_auto_off ? "auto_off" : "";
      if (r.id)
        if (auto st = store_.update_usage(r); !st)
          log_.error("{}: {}", device.name, st.error().message);
      t.auto_off->cancel();
    }
    if (cap == Capability::Massager && on && reported && !t.records.empty() &&
        !t.records.back().off_at)
      t.seen_session = t.records.back().session_start;
    t.closing_by_auto_off = false;
    prune(t);
  }
}

void SafetyGate::arm_auto_off(const std::string& device_id, const std::string& name,
                              Capability capability) {
  Timed& t = timed(device_id, capability);
  if (t.records.empty() || t.records.back().off_at) return;
  const UsageRecord& open = t.records.back();
  TimePoint at;
  std::string reason;
  if (capability == Capability::Massager) {
    const auto allowance = massage_allowance(device_id, open.intent);
    at = clock_.now() + allowance.may_run;
    reason = fmt::format("the {} massage session for {} is over",
                         in_minutes(massage_session_limit()), child_name_);
  } else {
    std::tie(at, reason) = sound_end(t);
  }
  t.auto_off->set(at, [this, device_id, name, capability, reason] {
    log_.notice("{}: switched off: {}", name, reason);
    timed(device_id, capability).closing_by_auto_off = true;
    enforcer_.enforce(device_id, DeviceValues::off(bit(capability)), reason);
  });
}

void SafetyGate::store_unstored() {
  // What the limits count must survive a restart: a record a full disk
  // refused is stored whole (with its end, if it has one) once it can be.
  bool left = false;
  for (auto& [key, t] : timed_)
    for (auto& r : t.records)
      if (!r.id) {
        if (auto id = store_.begin_usage(r))
          r.id = *id;
        else
          left = true;
      }
  if (!left) return;
  if (!store_retry_) store_retry_ = clock_.make_alarm();
  if (!store_retry_->pending())
    store_retry_->set(clock_.now() + std::chrono::seconds(2), [this] { store_unstored(); });
}

void SafetyGate::prune(Timed& t) const {
  const TimePoint keep_from = clock_.now() - kMemory;
  std::erase_if(t.records, [&](const UsageRecord& r) { return r.off_at && *r.off_at < keep_from; });
}

void SafetyGate::forget(const std::string& device_id) {
  for (Capability cap : kTimedCapabilities) {
    auto it = timed_.find({device_id, cap});
    if (it != timed_.end() && it->second.auto_off) it->second.auto_off->cancel();
  }
}

void SafetyGate::shift(Duration by) {
  for (auto& [key, t] : timed_) {
    for (auto& r : t.records) {
      r.session_start += by;
      r.on_at += by;
      if (r.off_at) *r.off_at += by;
      if (r.id) (void)store_.update_usage(r);
    }
    if (t.seen_session) *t.seen_session += by;
    // A wake time is a wall time, which the correction does not move: the
    // alarm, which keeps the real time it had left, is set for it again.
    if (key.second == Capability::Sound && t.deadline && !t.records.empty() &&
        !t.records.back().off_at)
      arm_auto_off(key.first, key.first, key.second);
  }
}

}  // namespace nursery
