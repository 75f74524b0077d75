// Wall time to instants across DST changes: the policy a parent relies on
// (a time in a gap happens at the first valid instant after it, a time in an
// overlap at its first occurrence), in northern, southern, half-hour and
// midnight-changing zones. Every expected instant is written out in UTC.
#include "daemon/schedule/civil_time.hpp"

#include <gtest/gtest.h>

namespace nursery::schedule {
namespace {

using namespace std::chrono_literals;

const date::time_zone& zone(const char* name) { return **find_zone(name); }

Instant utc(const char* iso) { return *parse_instant(iso); }

date::year_month_day ymd(int y, unsigned m, unsigned d) {
  return date::year{y} / date::month{m} / date::day{d};
}

ResolvedTime at(const char* zone_name, date::year_month_day day, int h, int m) {
  return resolve_local(zone(zone_name), day,
                       TimeOfDay{std::chrono::hours{h} + std::chrono::minutes{m}});
}

TEST(FindZone, RefusesAnUnknownZoneNamingIt) {
  auto z = find_zone("Mars/Olympus_Mons");
  ASSERT_FALSE(z);
  EXPECT_EQ(z.error().code, "unknown_time_zone");
  EXPECT_NE(z.error().message.find("Mars/Olympus_Mons"), std::string::npos);
  EXPECT_TRUE(find_zone("Europe/Berlin"));
}

TEST(CivilTime, BerlinSpringGapResolvesToThreeOClock) {
  const auto r = at("Europe/Berlin", ymd(2027, 3, 28), 2, 30);
  EXPECT_EQ(r.fit, WallTimeFit::InGap);
  EXPECT_EQ(r.at, utc("2027-03-28T01:00:00Z"));
  EXPECT_EQ(format_local(zone("Europe/Berlin"), r.at), "2027-03-28T03:00:00+02:00");
  // Every minute of the gap lands on the same first valid instant.
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 3, 28), 2, 0).at, r.at);
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 3, 28), 2, 59).at, r.at);
}

TEST(CivilTime, BerlinTimesEitherSideOfTheSpringGapAreUnchanged) {
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 3, 28), 1, 59).at, utc("2027-03-28T00:59:00Z"));
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 3, 28), 3, 0).at, utc("2027-03-28T01:00:00Z"));
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 3, 28), 19, 30).at, utc("2027-03-28T17:30:00Z"));
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 3, 27), 19, 30).at, utc("2027-03-27T18:30:00Z"));
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 3, 28), 19, 30).fit, WallTimeFit::Exact);
}

TEST(CivilTime, BerlinAutumnOverlapTakesTheFirstOccurrence) {
  const auto r = at("Europe/Berlin", ymd(2027, 10, 31), 2, 30);
  EXPECT_EQ(r.fit, WallTimeFit::Overlap);
  EXPECT_EQ(r.at, utc("2027-10-31T00:30:00Z"));  // still summer time (+02:00)
  EXPECT_EQ(format_local(zone("Europe/Berlin"), r.at), "2027-10-31T02:30:00+02:00");
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 10, 31), 3, 0).at, utc("2027-10-31T02:00:00Z"));
  EXPECT_EQ(at("Europe/Berlin", ymd(2027, 10, 31), 1, 59).at, utc("2027-10-30T23:59:00Z"));
}

TEST(CivilTime, NewYorkGapAndOverlap) {
  const auto gap = at("America/New_York", ymd(2027, 3, 14), 2, 30);
  EXPECT_EQ(gap.fit, WallTimeFit::InGap);
  EXPECT_EQ(format_local(zone("America/New_York"), gap.at), "2027-03-14T03:00:00-04:00");
  const auto overlap = at("America/New_York", ymd(2027, 11, 7), 1, 30);
  EXPECT_EQ(overlap.fit, WallTimeFit::Overlap);
  EXPECT_EQ(overlap.at, utc("2027-11-07T05:30:00Z"));  // EDT, -04:00
  EXPECT_EQ(at("America/New_York", ymd(2027, 11, 7), 2, 30).at, utc("2027-11-07T07:30:00Z"));
}

TEST(CivilTime, SydneySouthernRulesWorkTheSame) {
  // DST ends in April and starts in October.
  const auto overlap = at("Australia/Sydney", ymd(2027, 4, 4), 2, 30);
  EXPECT_EQ(overlap.fit, WallTimeFit::Overlap);
  EXPECT_EQ(format_local(zone("Australia/Sydney"), overlap.at), "2027-04-04T02:30:00+11:00");
  const auto gap = at("Australia/Sydney", ymd(2027, 10, 3), 2, 30);
  EXPECT_EQ(gap.fit, WallTimeFit::InGap);
  EXPECT_EQ(gap.at, utc("2027-10-02T16:00:00Z"));
  EXPECT_EQ(format_local(zone("Australia/Sydney"), gap.at), "2027-10-03T03:00:00+11:00");
}

TEST(CivilTime, LordHoweThirtyMinuteShiftsWorkTheSame) {
  // 02:00 -> 02:30 in October: 02:15 is in the gap, resolved to 02:30.
  const auto gap = at("Australia/Lord_Howe", ymd(2027, 10, 3), 2, 15);
  EXPECT_EQ(gap.fit, WallTimeFit::InGap);
  EXPECT_EQ(format_local(zone("Australia/Lord_Howe"), gap.at), "2027-10-03T02:30:00+11:00");
  EXPECT_EQ(at("Australia/Lord_Howe", ymd(2027, 10, 3), 2, 30).fit, WallTimeFit::Exact);
  // 02:00 -> 01:30 in April: 01:45 happens twice, the first one is kept.
  const auto overlap = at("Australia/Lord_Howe", ymd(2027, 4, 4), 1, 45);
  EXPECT_EQ(overlap.fit, WallTimeFit::Overlap);
  EXPECT_EQ(format_local(zone("Australia/Lord_Howe"), overlap.at), "2027-04-04T01:45:00+11:00");
  EXPECT_EQ(at("Australia/Lord_Howe", ymd(2027, 4, 4), 1, 15).fit, WallTimeFit::Exact);
}

TEST(CivilTime, SantiagoChangesAtMidnight) {
  // September: 00:00 jumps to 01:00, so 00:30 happens at 01:00.
  const auto gap = at("America/Santiago", ymd(2027, 9, 5), 0, 30);
  EXPECT_EQ(gap.fit, WallTimeFit::InGap);
  EXPECT_EQ(format_local(zone("America/Santiago"), gap.at), "2027-09-05T01:00:00-03:00");
  // April: Saturday's 24:00 goes back to 23:00, so 23:30 on the 3rd happens twice.
  const auto overlap = at("America/Santiago", ymd(2027, 4, 3), 23, 30);
  EXPECT_EQ(overlap.fit, WallTimeFit::Overlap);
  EXPECT_EQ(format_local(zone("America/Santiago"), overlap.at), "2027-04-03T23:30:00-03:00");
}

TEST(CivilTime, WeekdayAndDateAreLocalNearMidnightUtc) {
  // 2027-03-28T23:30Z is a Sunday in UTC but Monday 01:30 in Berlin and
  // Sunday 19:30 in New York; Sydney is already Monday morning.
  const Instant t = utc("2027-03-28T23:30:00Z");
  EXPECT_EQ(local_weekday(zone("Europe/Berlin"), t), date::Monday);
  EXPECT_EQ(local_date(zone("Europe/Berlin"), t), ymd(2027, 3, 29));
  EXPECT_EQ(local_weekday(zone("America/New_York"), t), date::Sunday);
  EXPECT_EQ(local_weekday(zone("Australia/Sydney"), t), date::Monday);
  EXPECT_EQ(local_weekday(zone("UTC"), t), date::Sunday);
}

TEST(CivilTime, FormatsHalfAndQuarterHourOffsets) {
  const Instant t = utc("2027-01-01T12:00:00Z");
  EXPECT_EQ(format_local(zone("Asia/Kolkata"), t), "2027-01-01T17:30:00+05:30");
  EXPECT_EQ(format_local(zone("Asia/Kathmandu"), t), "2027-01-01T17:45:00+05:45");
  EXPECT_EQ(format_local(zone("America/St_Johns"), t), "2027-01-01T08:30:00-03:30");
  EXPECT_EQ(format_local_hhmm(zone("Asia/Kathmandu"), t), "17:45");
}

}  // namespace
}  // namespace nursery::schedule
