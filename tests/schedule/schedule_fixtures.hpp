#pragma once
// Small builders shared by the planning tests: schedules as a parent would
// write them, the hub's context, instants written out in UTC.
#include <gtest/gtest.h>

#include "daemon/schedule/civil_time.hpp"
#include "daemon/schedule/planner.hpp"

namespace nursery::schedule::fixtures {

inline const date::time_zone* zone(const char* name) { return *find_zone(name); }

inline Instant utc(const char* iso) {
  auto t = parse_instant(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(Instant{});
}

inline date::year_month_day ymd(int y, unsigned m, unsigned d) {
  return date::year{y} / date::month{m} / date::day{d};
}

inline TimeOfDay hhmm(const char* text) {
  auto t = parse_time_of_day(text);
  EXPECT_TRUE(t) << text;
  return t.value_or(TimeOfDay{});
}

inline Schedule clock_schedule(std::string id, const char* at,
                               WeekdaySet days = WeekdaySet::every_day()) {
  Schedule s;
  s.id = std::move(id);
  s.routine = "bedtime";
  s.days = days;
  s.trigger = ClockTrigger{hhmm(at)};
  return s;
}

inline Schedule sun_schedule(std::string id, SunEvent event, Seconds offset,
                             std::optional<const char*> not_before = std::nullopt,
                             std::optional<const char*> not_after = std::nullopt) {
  Schedule s;
  s.id = std::move(id);
  s.routine = "bedtime";
  s.days = WeekdaySet::every_day();
  s.trigger = SunTrigger{event, offset};
  if (not_before) s.not_before = hhmm(*not_before);
  if (not_after) s.not_after = hhmm(*not_after);
  return s;
}

inline Schedule wake_schedule(std::string id, std::optional<const char*> not_before = std::nullopt,
                              std::optional<const char*> not_after = std::nullopt) {
  Schedule s;
  s.id = std::move(id);
  s.routine = "bedtime";
  s.days = WeekdaySet::every_day();
  s.trigger = WakeWindowTrigger{};
  if (not_before) s.not_before = hhmm(*not_before);
  if (not_after) s.not_after = hhmm(*not_after);
  return s;
}

inline WeekdaySet days_of(std::initializer_list<date::weekday> days) {
  WeekdaySet set;
  for (auto d : days) set.add(d);
  return set;
}

inline PlanContext context(const char* zone_name, GeoPosition where = {}) {
  PlanContext c;
  c.zone = zone(zone_name);
  c.position = where;
  return c;
}

inline Plan plan(const std::vector<Schedule>& schedules, Instant from, std::size_t count,
                 const PlanContext& c) {
  auto p = next_triggers(schedules, from, count, c);
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return p ? *p : Plan{};
}

// The caller's side of the due_triggers contract, in virtual time: it keeps
// last_checked and last_fired exactly as planner.hpp asks, and records what
// fired and what was reported missed.
class Firer {
 public:
  Firer(std::vector<Schedule> schedules, PlanContext c, Instant start)
      : schedules_(std::move(schedules)), context_(std::move(c)), last_checked_(start) {}

  void poll(Instant now) {
    auto due = due_triggers(schedules_, last_checked_, now, context_, last_fired_);
    ASSERT_TRUE(due) << due.error().message;
    for (const PlannedTrigger& t : due->due) {
      fired.push_back(t);
      fired_when.push_back(now);
      last_fired_[t.schedule] = t.at;
    }
    for (const MissedTrigger& m : due->missed) missed.push_back(m);
    last_checked_ = now;
  }

  // Polls every `step` from the last check up to and including `to`.
  void run_to(Instant to, Seconds step) {
    for (Instant t = last_checked_ + step; t <= to; t += step) poll(t);
  }

  std::vector<PlannedTrigger> fired;
  std::vector<Instant> fired_when;  // the `now` of the poll that fired each
  std::vector<MissedTrigger> missed;
  PlanContext& context() { return context_; }

 private:
  std::vector<Schedule> schedules_;
  PlanContext context_;
  Instant last_checked_;
  LastFired last_fired_;
};

}  // namespace nursery::schedule::fixtures
