#include "daemon/schedule/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "daemon/schedule/civil_time.hpp"

namespace nursery::schedule {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr int kLookbackDays = 8;

struct Candidate {
  PlannedTrigger trigger;
  std::size_t index = 0;  // the schedule's place in the list: the tie-break
};

bool earlier(const Candidate& a, const Candidate& b) {
  return std::tie(a.trigger.at, a.index) < std::tie(b.trigger.at, b.index);
}

date::year_month_day add_days(date::year_month_day day, int n) {
  return date::year_month_day{date::sys_days{day} + date::days{n}};
}

date::weekday weekday_of(date::year_month_day day) { return date::weekday{date::sys_days{day}}; }

Instant round_to_minute(Instant t) { return std::chrono::round<minutes>(t); }

// Why a sun event is missing on a day, as a parent reads it.
std::string missing_event(SunEvent event, SunState state) {
  const bool civil = event == SunEvent::CivilDawn || event == SunEvent::CivilDusk;
  const char* why = state == SunState::AlwaysUp
                        ? (civil ? "the sun stays above -6° all day" : "the sun is up all day")
                        : (civil ? "the sun stays below -6° all day" : "the sun is down all day");
  return fmt::format("no {} ({})", sun_event_name(event), why);
}

// Finds the trigger instants of schedules on given days; see planner.hpp.
class DayPlanner {
 public:
  explicit DayPlanner(const PlanContext& context) : context_(context), zone_(*context.zone) {}

  // The trigger of a clock or sun schedule on `day`, appended to `out`, or a
  // skip appended to `skipped` (when not null).
  void plan_day(const Schedule& s, std::size_t index, date::year_month_day day,
                std::vector<Candidate>& out, std::vector<SkippedDay>* skipped) const {
    if (!s.days.contains(weekday_of(day))) return;
    if (const auto* clock = std::get_if<ClockTrigger>(&s.trigger)) {
      const ResolvedTime r = resolve_local(zone_, day, clock->at);
      std::string reason = describe(s.trigger);
      if (r.fit == WallTimeFit::InGap)
        reason += fmt::format(", in the DST gap: at {}", format_local_hhmm(zone_, r.at));
      if (r.fit == WallTimeFit::Overlap) reason += ", twice this night: the first";
      out.push_back(make(s, index, r.at, std::move(reason), day));
    } else if (const auto* sun = std::get_if<SunTrigger>(&s.trigger)) {
      plan_sun(s, *sun, index, day, out, skipped);
    }
  }

  // The one trigger of a wake-window schedule.
  void plan_wake(const Schedule& s, std::size_t index, std::vector<Candidate>& out,
                 std::vector<SkippedDay>* skipped) const {
    auto skip = [&](std::optional<date::year_month_day> day, std::string why) {
      if (skipped) skipped->push_back({s.id, day, std::move(why)});
    };
    if (!context_.last_wake) return skip(std::nullopt, "wake window: no wake-up logged yet");
    if (!context_.birth_date)
      return skip(std::nullopt, "wake window: the child's birth date is not set");
    const Instant wake = *context_.last_wake;
    const int months = age_in_months(*context_.birth_date, local_date(zone_, wake));
    const Seconds window = wake_window_for(context_.wake_windows, months);
    const Instant end = round_to_minute(wake + window);
    const date::year_month_day day = local_date(zone_, end);
    const std::string label = fmt::format("wake window {} after {}", format_duration(window),
                                          format_local_hhmm(zone_, wake));
    if (!s.days.contains(weekday_of(day)))
      return skip(day, fmt::format("{} ends on a {}, not one of the schedule's days", label,
                                   weekday_name(weekday_of(day))));
    out.push_back(clamped(s, index, day, end, label, "ends"));
  }

  // Fills in what only a returned trigger needs.
  void finish(PlannedTrigger& t) const { t.local = format_local(zone_, t.at); }

  Instant start_of(date::year_month_day day) const {
    return resolve_local(zone_, day, TimeOfDay{}).at;
  }

 private:
  Candidate make(const Schedule& s, std::size_t index, Instant at, std::string reason,
                 date::year_month_day day) const {
    Candidate c;
    c.index = index;
    c.trigger.at = at;  // `local` is written only for what is returned: see finish()
    c.trigger.routine = s.routine;
    c.trigger.schedule = s.id;
    c.trigger.reason = std::move(reason);
    c.trigger.day = day;
    c.trigger.grace = s.grace;
    return c;
  }

  std::optional<Instant> bound(const std::optional<TimeOfDay>& t, date::year_month_day day) const {
    if (!t) return std::nullopt;
    return resolve_local(zone_, day, *t).at;
  }

  // `at` clamped into the schedule's bounds on `day`, the reason saying so.
  Candidate clamped(const Schedule& s, std::size_t index, date::year_month_day day, Instant at,
                    const std::string& label, std::string_view verb) const {
    const auto lo = bound(s.not_before, day);
    const auto hi = bound(s.not_after, day);
    if (lo && at < *lo)
      return make(
          s, index, *lo,
          fmt::format("not_before bound: {} {} {}", label, verb, format_local_hhmm(zone_, at)),
          day);
    if (hi && at > *hi)
      return make(
          s, index, *hi,
          fmt::format("not_after bound: {} {} {}", label, verb, format_local_hhmm(zone_, at)), day);
    return make(s, index, at, label, day);
  }

  void plan_sun(const Schedule& s, const SunTrigger& sun, std::size_t index,
                date::year_month_day day, std::vector<Candidate>& out,
                std::vector<SkippedDay>* skipped) const {
    const SunTime t = sun_time(sun.event, day, context_.position, zone_);
    if (t.at) {
      out.push_back(
          clamped(s, index, day, round_to_minute(*t.at + sun.offset), describe(s.trigger), "is"));
      return;
    }
    // The event does not happen: fall back to the bound it is beyond.
    const bool beyond_late =
        is_morning(sun.event) ? t.state == SunState::AlwaysDown : t.state == SunState::AlwaysUp;
    const std::string missing = missing_event(sun.event, t.state);
    std::optional<bool> use_not_after;
    if (beyond_late ? s.not_after.has_value() : !s.not_before && s.not_after) use_not_after = true;
    if (beyond_late ? !s.not_after && s.not_before : s.not_before.has_value())
      use_not_after = false;
    if (!use_not_after) {
      if (skipped) skipped->push_back({s.id, day, missing});
      return;
    }
    const auto& chosen = *use_not_after ? s.not_after : s.not_before;
    out.push_back(make(
        s, index, *bound(chosen, day),
        fmt::format("{} bound: {}", *use_not_after ? "not_after" : "not_before", missing), day));
  }

  const PlanContext& context_;
  const date::time_zone& zone_;
};

}  // namespace

Status check_context(const PlanContext& context) {
  if (!context.zone)
    return Error{"invalid_value", "planning needs the hub's time zone (hub.time_zone)", 400};
  if (auto ok = check_position(context.position); !ok) return ok;
  if (auto ok = check_wake_windows(context.wake_windows); !ok) return ok;
  return Ok{};
}

Expected<Plan> next_triggers(const std::vector<Schedule>& schedules, Instant from,
                             std::size_t count, const PlanContext& context) {
  if (auto ok = check_context(context); !ok) return ok.error();
  Plan plan;
  plan.capped = count > kMaxTriggers;
  const std::size_t wanted = std::min(count, kMaxTriggers);
  if (wanted == 0) return plan;

  const DayPlanner planner(context);
  std::vector<Candidate> found;
  std::vector<SkippedDay> skipped;
  auto keep_after_from = [&](std::vector<Candidate>& batch) {
    for (Candidate& c : batch)
      if (c.trigger.at > from) found.push_back(std::move(c));
    batch.clear();
  };

  std::vector<Candidate> batch;
  for (std::size_t i = 0; i < schedules.size(); ++i)
    if (schedules[i].enabled && std::holds_alternative<WakeWindowTrigger>(schedules[i].trigger))
      planner.plan_wake(schedules[i], i, batch, &skipped);
  keep_after_from(batch);

  // A trigger of the day before from's date can still lie after it (a
  // positive offset); none of the day before that can.
  const date::year_month_day first = local_date(*context.zone, from);
  for (int n = -1; n <= kHorizonDays; ++n) {
    const date::year_month_day day = add_days(first, n);
    for (std::size_t i = 0; i < schedules.size(); ++i) {
      const Schedule& s = schedules[i];
      if (!s.enabled || std::holds_alternative<WakeWindowTrigger>(s.trigger)) continue;
      planner.plan_day(s, i, day, batch, n >= 0 ? &skipped : nullptr);
    }
    keep_after_from(batch);
    if (found.size() >= wanted) {
      // Done once no later day can come before the wanted-th trigger: a
      // day's trigger is never earlier than two days before that day starts.
      std::nth_element(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(wanted - 1),
                       found.end(), earlier);
      if (found[wanted - 1].trigger.at < planner.start_of(add_days(day, 1)) - hours{48}) break;
    }
  }

  std::sort(found.begin(), found.end(), earlier);
  if (found.size() > wanted) found.resize(wanted);
  for (Candidate& c : found) {
    planner.finish(c.trigger);
    plan.triggers.push_back(std::move(c.trigger));
  }

  const bool complete = plan.triggers.size() == wanted;
  for (SkippedDay& s : skipped) {
    if (plan.skipped.size() == kMaxTriggers) break;
    if (complete && s.day && date::sys_days{*s.day} > date::sys_days{plan.triggers.back().day})
      continue;
    plan.skipped.push_back(std::move(s));
  }
  return plan;
}

Expected<DueTriggers> due_triggers(const std::vector<Schedule>& schedules, Instant last_checked,
                                   Instant now, const PlanContext& context,
                                   const LastFired& last_fired) {
  if (auto ok = check_context(context); !ok) return ok.error();
  DueTriggers out;
  if (now <= last_checked) return out;  // no time has passed, or the clock went back

  const Instant window_start = std::max(last_checked, now - date::days{kLookbackDays});
  const DayPlanner planner(context);
  std::vector<Candidate> candidates;
  const date::year_month_day first = add_days(local_date(*context.zone, window_start), -1);
  const date::year_month_day last = add_days(local_date(*context.zone, now), 1);
  for (std::size_t i = 0; i < schedules.size(); ++i) {
    const Schedule& s = schedules[i];
    if (!s.enabled) continue;
    if (std::holds_alternative<WakeWindowTrigger>(s.trigger)) {
      planner.plan_wake(s, i, candidates, nullptr);
      continue;
    }
    for (auto day = first; date::sys_days{day} <= date::sys_days{last}; day = add_days(day, 1))
      planner.plan_day(s, i, day, candidates, nullptr);
  }

  // The latest due and the latest missed trigger of each schedule.
  std::map<std::size_t, Candidate> due;
  std::map<std::size_t, MissedTrigger> missed;
  for (Candidate& c : candidates) {
    const Instant at = c.trigger.at;
    if (at <= window_start || at > now) continue;
    if (auto it = last_fired.find(c.trigger.schedule); it != last_fired.end() && at <= it->second)
      continue;
    const auto late = std::chrono::duration_cast<Seconds>(now - at);
    if (now - at <= c.trigger.grace) {
      auto [it, fresh] = due.try_emplace(c.index, c);
      if (!fresh && it->second.trigger.at < at) it->second = c;
    } else {
      auto [it, fresh] = missed.try_emplace(c.index, MissedTrigger{c.trigger, late});
      if (!fresh && it->second.trigger.at < at) it->second = MissedTrigger{c.trigger, late};
    }
  }
  std::vector<Candidate> due_list;
  for (auto& [index, c] : due) due_list.push_back(std::move(c));
  std::sort(due_list.begin(), due_list.end(), earlier);
  for (Candidate& c : due_list) {
    planner.finish(c.trigger);
    out.due.push_back(std::move(c.trigger));
  }
  for (auto& [index, m] : missed) {
    planner.finish(m.trigger);
    out.missed.push_back(std::move(m));
  }
  return out;
}

nlohmann::json to_json(const PlannedTrigger& t) {
  return {{"at", format_utc(t.at)},
          {"local", t.local},
          {"routine", t.routine},
          {"schedule", t.schedule},
          {"reason", t.reason}};
}

nlohmann::json to_json(const Plan& plan) {
  nlohmann::json triggers = nlohmann::json::array();
  for (const PlannedTrigger& t : plan.triggers) triggers.push_back(to_json(t));
  nlohmann::json skipped = nlohmann::json::array();
  for (const SkippedDay& s : plan.skipped) {
    nlohmann::json day = nullptr;
    if (s.day) day = date::format("%F", date::sys_days{*s.day});
    skipped.push_back({{"schedule", s.schedule}, {"date", day}, {"reason", s.reason}});
  }
  return {
      {"triggers", std::move(triggers)}, {"capped", plan.capped}, {"skipped", std::move(skipped)}};
}

}  // namespace nursery::schedule
