// next_triggers: what a parent sees when asking "what will the hub do next",
// in fixed zones across both DST changes of 2027, at the sun's mercy, and
// from logged wake-ups. Every instant is virtual: nothing reads a clock.
#include <gtest/gtest.h>

#include <map>

#include "schedule_fixtures.hpp"

namespace nursery::schedule {
namespace {

using namespace std::chrono_literals;
using namespace fixtures;

std::vector<std::string> locals(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& t : p.triggers) out.push_back(t.local);
  return out;
}

struct DstCase {
  const char* zone;
  const char* at;    // the schedule's time of day
  const char* from;  // a day and a half before the change, in UTC
  std::vector<std::string> expected;
};

TEST(NextTriggers, ATimeInTheSpringGapTriggersOnceAtTheFirstValidInstant) {
  const std::vector<DstCase> cases = {
      {"Europe/Berlin",
       "02:30",
       "2027-03-26T12:00:00Z",
       {"2027-03-27T02:30:00+01:00", "2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00"}},
      {"America/New_York",
       "02:30",
       "2027-03-12T12:00:00Z",
       {"2027-03-13T02:30:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-15T02:30:00-04:00"}},
      {"Australia/Sydney",
       "02:30",
       "2027-10-01T12:00:00Z",
       {"2027-10-02T02:30:00+10:00", "2027-10-03T03:00:00+11:00", "2027-10-04T02:30:00+11:00"}},
      {"Australia/Lord_Howe",
       "02:15",
       "2027-10-01T12:00:00Z",
       {"2027-10-02T02:15:00+10:30", "2027-10-03T02:30:00+11:00", "2027-10-04T02:15:00+11:00"}},
      {"America/Santiago",
       "00:30",
       "2027-09-03T12:00:00Z",
       {"2027-09-04T00:30:00-04:00", "2027-09-05T01:00:00-03:00", "2027-09-06T00:30:00-03:00"}},
  };
  for (const auto& c : cases) {
    const Plan p = plan({clock_schedule("night", c.at)}, utc(c.from), 3, context(c.zone));
    EXPECT_EQ(locals(p), c.expected) << c.zone;
    ASSERT_EQ(p.triggers.size(), 3u) << c.zone;
    EXPECT_EQ(p.triggers[0].reason, std::string("clock ") + c.at);
    EXPECT_NE(p.triggers[1].reason.find("in the DST gap: at"), std::string::npos)
        << p.triggers[1].reason;
  }
}

TEST(NextTriggers, ATimeInTheOverlapTriggersOnceAtTheFirstOccurrence) {
  const std::vector<DstCase> cases = {
      {"Europe/Berlin",
       "02:30",
       "2027-10-29T12:00:00Z",
       {"2027-10-30T02:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00"}},
      {"America/New_York",
       "01:30",
       "2027-11-05T12:00:00Z",
       {"2027-11-06T01:30:00-04:00", "2027-11-07T01:30:00-04:00", "2027-11-08T01:30:00-05:00"}},
      {"Australia/Sydney",
       "02:30",
       "2027-04-02T00:00:00Z",
       {"2027-04-03T02:30:00+11:00", "2027-04-04T02:30:00+11:00", "2027-04-05T02:30:00+10:00"}},
      {"Australia/Lord_Howe",
       "01:45",
       "2027-04-02T00:00:00Z",
       {"2027-04-03T01:45:00+11:00", "2027-04-04T01:45:00+11:00", "2027-04-05T01:45:00+10:30"}},
      {"America/Santiago",
       "23:30",
       "2027-04-02T12:00:00Z",
       {"2027-04-02T23:30:00-03:00", "2027-04-03T23:30:00-03:00", "2027-04-04T23:30:00-04:00"}},
  };
  for (const auto& c : cases) {
    const Plan p = plan({clock_schedule("night", c.at)}, utc(c.from), 3, context(c.zone));
    EXPECT_EQ(locals(p), c.expected) << c.zone;
    ASSERT_EQ(p.triggers.size(), 3u) << c.zone;
    EXPECT_EQ(p.triggers[1].reason, std::string("clock ") + c.at + ", twice this night: the first")
        << c.zone;
  }
}

// A whole year, both changes, three zones: every local date has exactly one
// trigger, at the wall time asked for (or 03:00 on the day 02:30 does not
// exist), and a trigger away from the changes keeps its wall time.
TEST(NextTriggers, EveryLocalDateOfAYearHasExactlyOneTriggerAtItsWallTime) {
  for (const char* zone_name : {"Europe/Berlin", "America/New_York", "Australia/Sydney"}) {
    for (const char* at : {"02:30", "19:30"}) {
      const PlanContext c = context(zone_name);
      std::map<date::sys_days, std::string> wall_by_date;  // local date -> wall time
      Instant from = utc("2026-12-31T12:00:00Z");
      while (wall_by_date.size() < 400) {
        const Plan p = plan({clock_schedule("s", at)}, from, 100, c);
        ASSERT_EQ(p.triggers.size(), 100u);
        for (const auto& t : p.triggers) {
          EXPECT_EQ(date::sys_days{t.day}, date::sys_days{local_date(*c.zone, t.at)});
          EXPECT_TRUE(wall_by_date.emplace(date::sys_days{t.day}, t.local.substr(11, 5)).second)
              << zone_name << " " << at << ": two triggers on " << t.local;
        }
        from = p.triggers.back().at;
      }
      // No local date is missing between the first and the last.
      const auto span = wall_by_date.rbegin()->first - wall_by_date.begin()->first;
      EXPECT_EQ(static_cast<std::size_t>(span.count()) + 1, wall_by_date.size()) << zone_name;
      int gap_days = 0;
      for (const auto& [day, wall] : wall_by_date) {
        if (wall != at) {
          ++gap_days;
          EXPECT_EQ(wall, "03:00") << zone_name << " " << date::format("%F", day);
        }
      }
      // The one spring-forward day in these 400 days.
      EXPECT_EQ(gap_days, std::string(at) == "02:30" ? 1 : 0) << zone_name << " " << at;
    }
  }
}

TEST(NextTriggers, AnEveningTriggerIsTwentyThreeOrTwentyFiveHoursFromTheDayBeforeAcrossAChange) {
  struct Case {
    const char* zone;
    const char* day_before;  // 12:00Z the day before the change
    std::chrono::hours gap;
  };
  for (const Case& c : {Case{"Europe/Berlin", "2027-03-27T12:00:00Z", 23h},
                        Case{"Europe/Berlin", "2027-10-30T12:00:00Z", 25h},
                        Case{"America/New_York", "2027-03-13T12:00:00Z", 23h},
                        Case{"America/New_York", "2027-11-06T12:00:00Z", 25h},
                        Case{"Australia/Sydney", "2027-10-02T01:00:00Z", 23h},
                        Case{"Australia/Sydney", "2027-04-03T01:00:00Z", 25h}}) {
    const Plan p = plan({clock_schedule("s", "19:30")}, utc(c.day_before), 3, context(c.zone));
    ASSERT_EQ(p.triggers.size(), 3u);
    EXPECT_EQ(p.triggers[1].at - p.triggers[0].at, c.gap) << c.zone << " " << c.day_before;
    EXPECT_EQ(p.triggers[2].at - p.triggers[1].at, 24h) << c.zone;
    for (const auto& t : p.triggers) EXPECT_EQ(t.local.substr(11, 8), "19:30:00") << c.zone;
  }
}

TEST(NextTriggers, WeekdaysAreTheLocalOnesNearMidnightUtc) {
  // Monday 00:30 in Berlin is Sunday 22:30 UTC.
  const Plan berlin = plan({clock_schedule("s", "00:30", days_of({date::Monday}))},
                           utc("2027-06-01T00:00:00Z"), 2, context("Europe/Berlin"));
  ASSERT_EQ(berlin.triggers.size(), 2u);
  EXPECT_EQ(format_utc(berlin.triggers[0].at), "2027-06-06T22:30:00Z");
  EXPECT_EQ(berlin.triggers[0].local, "2027-06-07T00:30:00+02:00");
  EXPECT_EQ(local_weekday(*zone("UTC"), berlin.triggers[0].at), date::Sunday);
  EXPECT_EQ(berlin.triggers[1].at - berlin.triggers[0].at, date::days{7});
  // Sunday 23:30 in New York is Monday 03:30 UTC.
  const Plan ny = plan({clock_schedule("s", "23:30", days_of({date::Sunday}))},
                       utc("2027-06-01T00:00:00Z"), 1, context("America/New_York"));
  ASSERT_EQ(ny.triggers.size(), 1u);
  EXPECT_EQ(format_utc(ny.triggers[0].at), "2027-06-07T03:30:00Z");
  EXPECT_EQ(ny.triggers[0].local, "2027-06-06T23:30:00-04:00");
  // Monday 06:00 in Sydney is still Sunday in UTC.
  const Plan sydney = plan({clock_schedule("s", "06:00", days_of({date::Monday}))},
                           utc("2027-06-01T00:00:00Z"), 1, context("Australia/Sydney"));
  EXPECT_EQ(format_utc(sydney.triggers.at(0).at), "2027-06-06T20:00:00Z");
}

TEST(NextTriggers, TriggersStrictlyAfterFrom) {
  const Plan p = plan({clock_schedule("s", "19:30")}, utc("2027-03-28T17:30:00Z"), 1,
                      context("Europe/Berlin"));
  EXPECT_EQ(locals(p), std::vector<std::string>{"2027-03-29T19:30:00+02:00"});
  const Plan q = plan({clock_schedule("s", "19:30")}, utc("2027-03-28T17:29:59Z"), 1,
                      context("Europe/Berlin"));
  EXPECT_EQ(locals(q), std::vector<std::string>{"2027-03-28T19:30:00+02:00"});
}

TEST(NextTriggers, SeveralSchedulesComeInTimeOrderAndTiesInListOrder) {
  const auto a = clock_schedule("a", "19:30");
  const auto b = clock_schedule("b", "19:30");
  const auto early = clock_schedule("early", "06:45", days_of({date::Saturday}));
  const PlanContext c = context("Europe/Berlin");
  const Plan p = plan({a, b, early}, utc("2027-03-26T12:00:00Z"), 5, c);  // a Friday
  std::vector<std::string> order;
  for (const auto& t : p.triggers) order.push_back(t.schedule + " " + t.local.substr(5, 11));
  EXPECT_EQ(order, (std::vector<std::string>{"a 03-26T19:30", "b 03-26T19:30", "early 03-27T06:45",
                                             "a 03-27T19:30", "b 03-27T19:30"}));
  const Plan swapped = plan({b, a}, utc("2027-03-26T12:00:00Z"), 2, c);
  EXPECT_EQ(swapped.triggers.at(0).schedule, "b");
  EXPECT_EQ(swapped.triggers.at(1).schedule, "a");
}

TEST(NextTriggers, ADisabledScheduleDoesNotTrigger) {
  auto off = clock_schedule("off", "18:00");
  off.enabled = false;
  const Plan p = plan({off, clock_schedule("on", "19:30")}, utc("2027-03-26T12:00:00Z"), 3,
                      context("Europe/Berlin"));
  ASSERT_EQ(p.triggers.size(), 3u);
  for (const auto& t : p.triggers) EXPECT_EQ(t.schedule, "on");
}

TEST(NextTriggers, CountIsCappedAtOneHundredAndTheCallerIsTold) {
  const PlanContext c = context("Europe/Berlin");
  const Plan huge = plan({clock_schedule("s", "19:30")}, utc("2027-01-01T00:00:00Z"), 100000, c);
  EXPECT_EQ(huge.triggers.size(), kMaxTriggers);
  EXPECT_TRUE(huge.capped);
  const Plan exact = plan({clock_schedule("s", "19:30")}, utc("2027-01-01T00:00:00Z"), 100, c);
  EXPECT_EQ(exact.triggers.size(), 100u);
  EXPECT_FALSE(exact.capped);
  const Plan none = plan({clock_schedule("s", "19:30")}, utc("2027-01-01T00:00:00Z"), 0, c);
  EXPECT_TRUE(none.triggers.empty());
  EXPECT_FALSE(none.capped);
}

TEST(NextTriggers, RefusesAContextWithoutZoneOrWithALatitudeOf95) {
  PlanContext no_zone;
  auto p = next_triggers({clock_schedule("s", "19:30")}, utc("2027-01-01T00:00:00Z"), 1, no_zone);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "invalid_value");
  auto far = next_triggers({clock_schedule("s", "19:30")}, utc("2027-01-01T00:00:00Z"), 1,
                           context("UTC", {95.0, 0.0}));
  ASSERT_FALSE(far);
  EXPECT_NE(far.error().message.find("latitude"), std::string::npos);
}

// ---- sun triggers -----------------------------------------------------------

const GeoPosition kLondon{51.5074, -0.1278};
const GeoPosition kTromso{69.6492, 18.9553};

Instant sun_at(SunEvent e, date::year_month_day day, GeoPosition where, const char* zone_name) {
  const SunTime t = sun_time(e, day, where, *zone(zone_name));
  EXPECT_TRUE(t.at);
  return t.at.value_or(Instant{});
}

TEST(NextTriggers, ASunsetTriggerFollowsTheSunWithItsOffset) {
  const PlanContext c = context("Europe/London", kLondon);
  const Plan p =
      plan({sun_schedule("dusk", SunEvent::Sunset, -30min)}, utc("2027-03-27T12:00:00Z"), 3, c);
  ASSERT_EQ(p.triggers.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto day = ymd(2027, 3, 27 + static_cast<unsigned>(i));
    const Instant expected = std::chrono::round<std::chrono::minutes>(
        sun_at(SunEvent::Sunset, day, kLondon, "Europe/London") - 30min);
    EXPECT_EQ(p.triggers[i].at, expected) << i;
    EXPECT_EQ(p.triggers[i].reason, "sunset -30m");
    EXPECT_EQ(date::sys_days{p.triggers[i].day}, date::sys_days{day});
  }
  // 17:5x GMT on the 27th, then 18:5x BST: the wall time moves with the clocks.
  EXPECT_EQ(p.triggers[0].local.substr(10, 4), "T17:");
  EXPECT_EQ(p.triggers[1].local.substr(10, 4), "T18:");
}

TEST(NextTriggers, ASunTriggerIsClampedIntoItsBoundsAndSaysSo) {
  const PlanContext c = context("Europe/London", kLondon);
  // Midsummer: sunset -30m is about 20:50, later than not_after.
  const Plan june = plan({sun_schedule("dusk", SunEvent::Sunset, -30min, "18:30", "20:00")},
                         utc("2027-06-21T00:00:00Z"), 1, c);
  ASSERT_EQ(june.triggers.size(), 1u);
  EXPECT_EQ(june.triggers[0].local, "2027-06-21T20:00:00+01:00");
  const Instant unclamped = std::chrono::round<std::chrono::minutes>(
      sun_at(SunEvent::Sunset, ymd(2027, 6, 21), kLondon, "Europe/London") - 30min);
  EXPECT_EQ(june.triggers[0].reason,
            "not_after bound: sunset -30m is " + format_local_hhmm(*c.zone, unclamped));
  // Midwinter: sunset -30m is about 15:20, earlier than not_before.
  const Plan december = plan({sun_schedule("dusk", SunEvent::Sunset, -30min, "18:30", "20:00")},
                             utc("2027-12-21T00:00:00Z"), 1, c);
  ASSERT_EQ(december.triggers.size(), 1u);
  EXPECT_EQ(december.triggers[0].local, "2027-12-21T18:30:00+00:00");
  EXPECT_EQ(december.triggers[0].reason.substr(0, 33), "not_before bound: sunset -30m is ");
  // In between, inside the bounds: the sun's own time.
  const Plan march = plan({sun_schedule("dusk", SunEvent::Sunset, 0min, "18:30", "20:00")},
                          utc("2027-04-01T00:00:00Z"), 1, c);
  EXPECT_EQ(march.triggers.at(0).reason, "sunset");
}

TEST(NextTriggers, PolarDayFallsBackToTheNotAfterBound) {
  const PlanContext c = context("Europe/Oslo", kTromso);
  const Plan p = plan({sun_schedule("dusk", SunEvent::Sunset, -30min, "18:00", "20:00")},
                      utc("2027-06-21T00:00:00Z"), 1, c);
  ASSERT_EQ(p.triggers.size(), 1u);
  EXPECT_EQ(p.triggers[0].local, "2027-06-21T20:00:00+02:00");
  EXPECT_EQ(p.triggers[0].reason, "not_after bound: no sunset (the sun is up all day)");
  // With only not_before given, that one is used.
  const Plan q = plan({sun_schedule("dusk", SunEvent::Sunset, -30min, "18:00")},
                      utc("2027-06-21T00:00:00Z"), 1, c);
  EXPECT_EQ(q.triggers.at(0).local, "2027-06-21T18:00:00+02:00");
  EXPECT_EQ(q.triggers.at(0).reason, "not_before bound: no sunset (the sun is up all day)");
}

TEST(NextTriggers, PolarNightFallsBackToTheNotBeforeBound) {
  const PlanContext c = context("Europe/Oslo", kTromso);
  const Plan p = plan({sun_schedule("dusk", SunEvent::Sunset, 0min, "16:00", "19:00")},
                      utc("2027-12-21T00:00:00Z"), 1, c);
  ASSERT_EQ(p.triggers.size(), 1u);
  EXPECT_EQ(p.triggers[0].local, "2027-12-21T16:00:00+01:00");
  EXPECT_EQ(p.triggers[0].reason, "not_before bound: no sunset (the sun is down all day)");
  // A wake light on "sunrise" in the polar night waits for the latest bound.
  const Plan wake = plan({sun_schedule("wake", SunEvent::Sunrise, 0min, "06:30", "07:30")},
                         utc("2027-12-21T00:00:00Z"), 1, c);
  EXPECT_EQ(wake.triggers.at(0).local, "2027-12-21T07:30:00+01:00");
  EXPECT_EQ(wake.triggers.at(0).reason, "not_after bound: no sunrise (the sun is down all day)");
}

TEST(NextTriggers, WithoutBoundsAPolarDayIsSkippedAndTheSkipsAreListed) {
  const PlanContext c = context("Europe/Oslo", kTromso);
  const Plan p =
      plan({sun_schedule("dusk", SunEvent::Sunset, -30min)}, utc("2027-06-01T00:00:00Z"), 1, c);
  ASSERT_EQ(p.triggers.size(), 1u);
  const auto first = p.triggers[0].day;
  EXPECT_EQ(first.month(), date::July);  // the midnight sun ends late in July
  ASSERT_FALSE(p.skipped.empty());
  // Every day from June 1 up to the first trigger was skipped, and says why.
  auto expected_day = ymd(2027, 6, 1);
  for (const auto& s : p.skipped) {
    EXPECT_EQ(s.schedule, "dusk");
    ASSERT_TRUE(s.day);
    EXPECT_EQ(date::sys_days{*s.day}, date::sys_days{expected_day});
    EXPECT_EQ(s.reason, "no sunset (the sun is up all day)");
    expected_day = date::year_month_day{date::sys_days{expected_day} + date::days{1}};
  }
  EXPECT_EQ(date::sys_days{expected_day}, date::sys_days{first});
}

TEST(NextTriggers, AScheduleThatCanNeverTriggerEndsAtTheHorizonNotInALoop) {
  // At the pole no sun event falls on a solar day: the search gives up after
  // kHorizonDays with nothing found, and lists at most kMaxTriggers skips.
  const PlanContext c = context("UTC", {90.0, 0.0});
  const Plan p =
      plan({sun_schedule("never", SunEvent::Sunset, 0min)}, utc("2027-01-01T00:00:00Z"), 10, c);
  EXPECT_TRUE(p.triggers.empty());
  EXPECT_EQ(p.skipped.size(), kMaxTriggers);
}

TEST(NextTriggers, SouthernPolarBoundsWorkTheSame) {
  const PlanContext c = context("Antarctica/McMurdo", {-78.0, 166.67});
  const Plan dec = plan({sun_schedule("dusk", SunEvent::CivilDusk, 0min, "19:00", "20:00")},
                        utc("2027-12-20T12:00:00Z"), 1, c);
  EXPECT_EQ(dec.triggers.at(0).reason,
            "not_after bound: no civil_dusk (the sun stays above -6° all day)");
  EXPECT_EQ(dec.triggers.at(0).local.substr(11), "20:00:00+13:00");
  const Plan jun = plan({sun_schedule("dusk", SunEvent::CivilDusk, 0min, "19:00", "20:00")},
                        utc("2027-06-20T12:00:00Z"), 1, c);
  EXPECT_EQ(jun.triggers.at(0).reason,
            "not_before bound: no civil_dusk (the sun stays below -6° all day)");
  EXPECT_EQ(jun.triggers.at(0).local.substr(11), "19:00:00+12:00");
}

// ---- wake windows -----------------------------------------------------------

TEST(NextTriggers, AWakeWindowWithoutAWakeUpOrBirthDateIsSkippedWithItsReason) {
  PlanContext c = context("Europe/Berlin");
  const Plan none = plan({wake_schedule("nap")}, utc("2027-04-01T08:00:00Z"), 1, c);
  EXPECT_TRUE(none.triggers.empty());
  ASSERT_EQ(none.skipped.size(), 1u);
  EXPECT_EQ(none.skipped[0].reason, "wake window: no wake-up logged yet");
  EXPECT_FALSE(none.skipped[0].day);
  c.last_wake = utc("2027-04-01T07:00:00Z");
  const Plan no_birth = plan({wake_schedule("nap")}, utc("2027-04-01T08:00:00Z"), 1, c);
  ASSERT_EQ(no_birth.skipped.size(), 1u);
  EXPECT_EQ(no_birth.skipped[0].reason, "wake window: the child's birth date is not set");
}

TEST(NextTriggers, AWakeWindowEndingOnADayNotInTheScheduleIsSkipped) {
  PlanContext c = context("Europe/Berlin");
  c.birth_date = ymd(2026, 12, 4);
  c.last_wake = utc("2027-04-03T14:00:00Z");  // Saturday 16:00 in Berlin
  auto weekdays = wake_schedule("bedtime");
  weekdays.days =
      days_of({date::Monday, date::Tuesday, date::Wednesday, date::Thursday, date::Friday});
  const Plan p = plan({weekdays}, utc("2027-04-03T14:00:00Z"), 1, c);
  EXPECT_TRUE(p.triggers.empty());
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].reason,
            "wake window 1h30m after 16:00 ends on a sat, not one of the schedule's days");
}

// A week of logged wake-ups for a baby who turns four months old on the
// Sunday: each bedtime is planned from the day's last wake-up, the window
// grows from 1h30m to 1h45m with the birthday, and the bounds hold.
TEST(NextTriggers, AWeekOfWakeUpsPlansEachBedtimeFromTheLastWakeUp) {
  struct Day {
    std::vector<const char*> wake_ups;  // UTC; Berlin is +02:00 that week
    const char* bedtime;                // expected local
    const char* reason;
  };
  const std::vector<Day> week = {
      {{"2027-04-01T05:00:00Z", "2027-04-01T09:30:00Z", "2027-04-01T14:45:00Z"},
       "2027-04-01T18:30:00+02:00",
       "not_before bound: wake window 1h30m after 16:45 ends 18:15"},
      {{"2027-04-02T05:10:00Z", "2027-04-02T10:00:00Z", "2027-04-02T15:20:00Z"},
       "2027-04-02T18:50:00+02:00",
       "wake window 1h30m after 17:20"},
      {{"2027-04-03T05:30:00Z", "2027-04-03T16:40:00Z"},
       "2027-04-03T20:00:00+02:00",
       "not_after bound: wake window 1h30m after 18:40 ends 20:10"},
      {{"2027-04-04T05:00:00Z", "2027-04-04T15:00:00Z"},
       "2027-04-04T18:45:00+02:00",
       "wake window 1h45m after 17:00"},
      {{"2027-04-05T04:45:00Z", "2027-04-05T09:15:00Z", "2027-04-05T14:50:00Z"},
       "2027-04-05T18:35:00+02:00",
       "wake window 1h45m after 16:50"},
      {{"2027-04-06T05:00:00Z", "2027-04-06T15:15:00Z"},
       "2027-04-06T19:00:00+02:00",
       "wake window 1h45m after 17:15"},
      {{"2027-04-07T05:05:00Z", "2027-04-07T15:29:40Z"},
       "2027-04-07T19:15:00+02:00",
       "wake window 1h45m after 17:29"},
  };
  PlanContext c = context("Europe/Berlin");
  c.birth_date = ymd(2026, 12, 4);
  const std::vector<Schedule> schedules = {wake_schedule("bedtime", "18:30", "20:00")};
  for (const Day& day : week) {
    std::optional<PlannedTrigger> planned;
    for (const char* wake : day.wake_ups) {
      c.last_wake = utc(wake);
      const Plan p = plan(schedules, utc(wake), 1, c);
      ASSERT_EQ(p.triggers.size(), 1u) << wake;
      planned = p.triggers[0];
    }
    EXPECT_EQ(planned->local, day.bedtime);
    EXPECT_EQ(planned->reason, day.reason);
    EXPECT_EQ(planned->schedule, "bedtime");
    // Once the bedtime has passed there is nothing more until the next wake-up.
    const Plan after = plan(schedules, planned->at, 1, c);
    EXPECT_TRUE(after.triggers.empty()) << day.bedtime;
  }
}

// ---- JSON -------------------------------------------------------------------

TEST(PlanJson, HasTheShapeOfTheNextRoute) {
  const Plan p = plan({clock_schedule("weeknights", "19:30")}, utc("2027-03-28T12:00:00Z"), 1,
                      context("Europe/Berlin"));
  const auto j = to_json(p);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"triggers":[{"at":"2027-03-28T17:30:00Z",
      "local":"2027-03-28T19:30:00+02:00","routine":"bedtime","schedule":"weeknights",
      "reason":"clock 19:30"}],"capped":false,"skipped":[]})"));
  PlanContext c = context("Europe/Berlin");
  const auto skipped = to_json(plan({wake_schedule("nap")}, utc("2027-03-28T12:00:00Z"), 1, c));
  EXPECT_TRUE(skipped["skipped"][0]["date"].is_null());
}

}  // namespace
}  // namespace nursery::schedule
