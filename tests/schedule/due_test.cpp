// due_triggers, driven the way the hub drives it (schedule_fixtures.hpp's
// Firer keeps last_checked and last_fired as the contract asks), in virtual
// time: DST changes, a clock that jumps forward and back by hours, outages
// shorter and longer than the grace, and a whole year of polling.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "schedule_fixtures.hpp"

namespace nursery::schedule {
namespace {

using namespace std::chrono_literals;
using namespace fixtures;

std::vector<std::string> fired_locals(const Firer& f) {
  std::vector<std::string> out;
  for (const auto& t : f.fired) out.push_back(t.schedule + " " + t.local);
  return out;
}

struct ChangeNight {
  const char* zone;
  const char* start;  // local midnight of the change day, in UTC
  const char* end;
  std::vector<const char*> times;  // before, in, after the gap or overlap
  std::vector<std::string> expected;
};

void expect_each_fires_once(const ChangeNight& n) {
  std::vector<Schedule> schedules;
  for (std::size_t i = 0; i < n.times.size(); ++i)
    schedules.push_back(clock_schedule("s" + std::to_string(i), n.times[i]));
  Firer f(schedules, context(n.zone), utc(n.start));
  f.run_to(utc(n.end), 60s);
  EXPECT_EQ(fired_locals(f), n.expected) << n.zone;
  EXPECT_TRUE(f.missed.empty()) << n.zone;
  for (const auto& t : f.fired) EXPECT_EQ(t.at, std::chrono::floor<std::chrono::minutes>(t.at));
}

TEST(DueTriggers, ATriggerInTheSpringGapFiresOnceAtTheFirstValidInstant) {
  expect_each_fires_once({"Europe/Berlin",
                          "2027-03-27T23:00:00Z",
                          "2027-03-28T05:00:00Z",
                          {"01:30", "02:30", "03:30"},
                          {"s0 2027-03-28T01:30:00+01:00", "s1 2027-03-28T03:00:00+02:00",
                           "s2 2027-03-28T03:30:00+02:00"}});
  expect_each_fires_once({"America/New_York",
                          "2027-03-14T05:00:00Z",
                          "2027-03-14T11:00:00Z",
                          {"01:30", "02:30", "03:30"},
                          {"s0 2027-03-14T01:30:00-05:00", "s1 2027-03-14T03:00:00-04:00",
                           "s2 2027-03-14T03:30:00-04:00"}});
  expect_each_fires_once({"Australia/Sydney",
                          "2027-10-02T14:00:00Z",
                          "2027-10-02T20:00:00Z",
                          {"01:30", "02:30", "03:30"},
                          {"s0 2027-10-03T01:30:00+10:00", "s1 2027-10-03T03:00:00+11:00",
                           "s2 2027-10-03T03:30:00+11:00"}});
}

TEST(DueTriggers, ATriggerInTheOverlapFiresOnceAtTheFirstOccurrence) {
  expect_each_fires_once({"Europe/Berlin",
                          "2027-10-30T22:00:00Z",
                          "2027-10-31T05:00:00Z",
                          {"01:30", "02:30", "03:30"},
                          {"s0 2027-10-31T01:30:00+02:00", "s1 2027-10-31T02:30:00+02:00",
                           "s2 2027-10-31T03:30:00+01:00"}});
  expect_each_fires_once({"America/New_York",
                          "2027-11-07T04:00:00Z",
                          "2027-11-07T10:00:00Z",
                          {"00:30", "01:30", "02:30"},
                          {"s0 2027-11-07T00:30:00-04:00", "s1 2027-11-07T01:30:00-04:00",
                           "s2 2027-11-07T02:30:00-05:00"}});
  expect_each_fires_once({"Australia/Sydney",
                          "2027-04-03T13:00:00Z",
                          "2027-04-03T19:00:00Z",
                          {"01:30", "02:30", "03:30"},
                          {"s0 2027-04-04T01:30:00+11:00", "s1 2027-04-04T02:30:00+11:00",
                           "s2 2027-04-04T03:30:00+10:00"}});
}

TEST(DueTriggers, TheClockJumpingBackHoursDoesNotFireATriggerTwice) {
  Firer f({clock_schedule("bedtime", "19:30")}, context("Europe/Berlin"),
          utc("2027-06-10T16:00:00Z"));
  f.run_to(utc("2027-06-10T18:00:00Z"), 60s);  // 20:00 local: fired at 19:30
  ASSERT_EQ(f.fired.size(), 1u);
  // NTP corrects a clock that was four hours ahead: wall time is 16:00 again
  // and passes 19:30 a second time.
  f.poll(utc("2027-06-10T14:00:00Z"));
  f.run_to(utc("2027-06-10T19:00:00Z"), 60s);
  EXPECT_EQ(f.fired.size(), 1u);
  EXPECT_TRUE(f.missed.empty());
  // The next evening fires as usual.
  f.run_to(utc("2027-06-11T18:00:00Z"), 60s);
  EXPECT_EQ(fired_locals(f), (std::vector<std::string>{"bedtime 2027-06-10T19:30:00+02:00",
                                                       "bedtime 2027-06-11T19:30:00+02:00"}));
}

TEST(DueTriggers, AfterTheClockIsSetBackATriggerItWronglyMissedFiresOnTime) {
  // The hub's clock ran four hours fast: at 18:00 local it read 22:00 and
  // called 19:30 missed. NTP then sets it back to 19:00.
  Firer f({clock_schedule("bedtime", "19:30")}, context("Europe/Berlin"),
          utc("2027-06-10T16:00:00Z"));
  f.poll(utc("2027-06-10T20:00:00Z"));
  EXPECT_TRUE(f.fired.empty());
  ASSERT_EQ(f.missed.size(), 1u);
  f.poll(utc("2027-06-10T17:00:00Z"));
  EXPECT_TRUE(f.fired.empty());
  f.run_to(utc("2027-06-10T18:00:00Z"), 60s);
  // 19:30 comes round again on the wall clock and, now on time, it fires:
  // the miss was the clock's fault, and the trigger never fired before.
  ASSERT_EQ(f.fired.size(), 1u);
  EXPECT_EQ(f.fired[0].local, "2027-06-10T19:30:00+02:00");
}

TEST(DueTriggers, TheClockJumpingForwardHoursDoesNotFireHoursLate) {
  auto bedtime = clock_schedule("bedtime", "19:30");
  auto late = clock_schedule("late", "21:50");
  Firer f({bedtime, late}, context("Europe/Berlin"), utc("2027-06-10T13:00:00Z"));
  // A hub that booted with a stale clock at 15:00 local learns it is 22:00.
  f.poll(utc("2027-06-10T20:00:00Z"));
  ASSERT_EQ(f.fired.size(), 1u);
  EXPECT_EQ(f.fired[0].schedule, "late");  // 10 minutes late: inside its 15-minute grace
  ASSERT_EQ(f.missed.size(), 1u);
  EXPECT_EQ(f.missed[0].trigger.schedule, "bedtime");
  EXPECT_EQ(f.missed[0].trigger.local, "2027-06-10T19:30:00+02:00");
  EXPECT_EQ(f.missed[0].late, 2h + 30min);
  // Nothing more fires that evening.
  f.run_to(utc("2027-06-10T22:00:00Z"), 60s);
  EXPECT_EQ(f.fired.size(), 1u);
}

TEST(DueTriggers, AnOutageSpanningATriggerFiresItLateOnlyInsideItsGrace) {
  struct Case {
    const char* back;  // UTC; the trigger is at 17:30Z (19:30 local)
    const char* grace;
    bool fires;
  };
  for (const Case& c :
       {Case{"2027-06-10T17:44:00Z", "15m", true}, Case{"2027-06-10T17:45:00Z", "15m", true},
        Case{"2027-06-10T17:45:01Z", "15m", false}, Case{"2027-06-10T18:29:00Z", "1h", true},
        Case{"2027-06-10T21:00:00Z", "2h", false}, Case{"2027-06-10T17:30:00Z", "1m", true}}) {
    auto s = clock_schedule("bedtime", "19:30");
    s.grace = *parse_duration(c.grace);
    Firer f({s}, context("Europe/Berlin"), utc("2027-06-10T17:00:00Z"));
    f.poll(utc(c.back));  // the first check after the outage
    EXPECT_EQ(f.fired.size(), c.fires ? 1u : 0u) << c.back << " grace " << c.grace;
    EXPECT_EQ(f.missed.size(), c.fires ? 0u : 1u) << c.back << " grace " << c.grace;
    if (!c.fires) {
      EXPECT_EQ(f.missed[0].late, utc(c.back) - utc("2027-06-10T17:30:00Z"));
    }
  }
}

TEST(DueTriggers, AnOutageOfDaysReportsOnlyTheLatestMissedTriggerOfEachSchedule) {
  Firer f({clock_schedule("bedtime", "19:30"), clock_schedule("wake", "06:30")},
          context("Europe/Berlin"), utc("2027-06-10T12:00:00Z"));
  f.poll(utc("2027-06-13T18:00:00Z"));  // 20:00 local, three days later
  EXPECT_TRUE(f.fired.empty());
  ASSERT_EQ(f.missed.size(), 2u);
  EXPECT_EQ(f.missed[0].trigger.local, "2027-06-13T19:30:00+02:00");
  EXPECT_EQ(f.missed[0].late, 30min);
  EXPECT_EQ(f.missed[1].trigger.local, "2027-06-13T06:30:00+02:00");
}

TEST(DueTriggers, AnOutageOfAYearLooksBackOnlyAWeek) {
  Firer f({clock_schedule("bedtime", "19:30")}, context("Europe/Berlin"),
          utc("2026-06-10T12:00:00Z"));
  f.poll(utc("2027-06-10T17:40:00Z"));
  ASSERT_EQ(f.fired.size(), 1u);  // today's, 10 minutes late
  EXPECT_EQ(f.fired[0].local, "2027-06-10T19:30:00+02:00");
  ASSERT_EQ(f.missed.size(), 1u);  // the latest one beyond grace: yesterday's
  EXPECT_EQ(f.missed[0].trigger.local, "2027-06-09T19:30:00+02:00");
  EXPECT_EQ(f.missed[0].late, 24h + 10min);
}

TEST(DueTriggers, AfterARestartWithNoRecordATriggerWithinGraceStillFires) {
  const Instant now = utc("2027-06-10T17:40:00Z");
  Firer f({clock_schedule("bedtime", "19:30")}, context("Europe/Berlin"), now - kMaxGrace);
  f.poll(now);
  ASSERT_EQ(f.fired.size(), 1u);
  EXPECT_EQ(f.fired[0].local, "2027-06-10T19:30:00+02:00");
}

TEST(DueTriggers, NothingIsDueWhenNoTimeHasPassedOrTimeWentBack) {
  const auto s = std::vector<Schedule>{clock_schedule("bedtime", "19:30")};
  const PlanContext c = context("Europe/Berlin");
  const Instant at = utc("2027-06-10T17:30:00Z");
  EXPECT_TRUE(due_triggers(s, at, at, c, {})->due.empty());
  EXPECT_TRUE(due_triggers(s, at + 1min, at, c, {})->due.empty());
  EXPECT_EQ(due_triggers(s, at - 1min, at, c, {})->due.size(), 1u);
  EXPECT_TRUE(due_triggers(s, at - 1min, at, c, {{"bedtime", at}})->due.empty());
}

TEST(DueTriggers, AWakeWindowFiresOnceAfterEachWakeUp) {
  PlanContext c = context("Europe/Berlin");
  c.birth_date = ymd(2026, 12, 4);
  c.last_wake = utc("2027-04-01T14:45:00Z");  // 16:45 local, a window of 1h30m
  Firer f({wake_schedule("nap")}, c, utc("2027-04-01T14:45:00Z"));
  f.run_to(utc("2027-04-01T18:00:00Z"), 60s);
  ASSERT_EQ(f.fired.size(), 1u);
  EXPECT_EQ(f.fired[0].local, "2027-04-01T18:15:00+02:00");
  EXPECT_EQ(f.fired[0].reason, "wake window 1h30m after 16:45");
  f.context().last_wake = utc("2027-04-02T08:00:00Z");
  f.run_to(utc("2027-04-02T12:00:00Z"), 60s);
  ASSERT_EQ(f.fired.size(), 2u);
  EXPECT_EQ(f.fired[1].local, "2027-04-02T11:30:00+02:00");
}

TEST(DueTriggers, ADisabledScheduleNeverFires) {
  auto s = clock_schedule("bedtime", "19:30");
  s.enabled = false;
  Firer f({s}, context("Europe/Berlin"), utc("2027-06-10T17:00:00Z"));
  f.run_to(utc("2027-06-10T18:00:00Z"), 60s);
  EXPECT_TRUE(f.fired.empty());
  EXPECT_TRUE(f.missed.empty());
}

// A year of polling every half hour in three zones, both DST changes
// included: every trigger of every schedule fires exactly once on each of its
// local dates, none is missed, and each fires at the first poll after it.
TEST(DueTriggers, APolledHubFiresEveryTriggerOnceAcrossAYear) {
  struct Place {
    const char* zone;
    GeoPosition where;
    const char* start;  // local 2027-01-01T00:00, in UTC
    const char* end;    // local 2028-01-01T00:00, in UTC
  };
  const auto weekdays =
      days_of({date::Monday, date::Tuesday, date::Wednesday, date::Thursday, date::Friday});
  for (const Place& p :
       {Place{"Europe/Berlin", {52.52, 13.405}, "2026-12-31T23:00:00Z", "2027-12-31T23:00:00Z"},
        Place{
            "America/New_York", {40.7128, -74.006}, "2027-01-01T05:00:00Z", "2028-01-01T05:00:00Z"},
        Place{"Australia/Sydney",
              {-33.8688, 151.2093},
              "2026-12-31T13:00:00Z",
              "2027-12-31T13:00:00Z"}}) {
    std::vector<Schedule> schedules = {
        clock_schedule("night", "02:30"), clock_schedule("bedtime", "19:30", weekdays),
        sun_schedule("dusk", SunEvent::Sunset, -30min, "16:00", "20:30")};
    for (auto& s : schedules) s.grace = 1h;  // longer than the polling step
    constexpr Seconds kStep = 30min;
    Firer f(schedules, context(p.zone, p.where), utc(p.start));
    f.run_to(utc(p.end), kStep);
    for (std::size_t i = 0; i < f.fired.size(); ++i) {
      EXPECT_GE(f.fired_when[i], f.fired[i].at);
      EXPECT_LT(f.fired_when[i] - f.fired[i].at, kStep) << f.fired[i].local;
    }
    std::map<std::string, std::set<date::sys_days>> days;
    for (const auto& t : f.fired) {
      EXPECT_TRUE(days[t.schedule].insert(date::sys_days{t.day}).second)
          << p.zone << ": " << t.schedule << " fired twice on " << t.local;
    }
    EXPECT_EQ(days["night"].size(), 365u) << p.zone;
    EXPECT_EQ(days["bedtime"].size(), 261u) << p.zone;  // 2027 starts on a Friday
    EXPECT_EQ(days["dusk"].size(), 365u) << p.zone;
    EXPECT_TRUE(f.missed.empty()) << p.zone;
  }
}

}  // namespace
}  // namespace nursery::schedule
