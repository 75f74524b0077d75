// The written forms of times: what a parent may type, and what they read back.
#include "daemon/schedule/time_text.hpp"

#include <gtest/gtest.h>

namespace nursery::schedule {
namespace {

using namespace std::chrono_literals;

TEST(TimeOfDay, ReadsTwoDigitHoursAndMinutes) {
  EXPECT_EQ(parse_time_of_day("19:30"), TimeOfDay{19h + 30min});
  EXPECT_EQ(parse_time_of_day("00:00"), TimeOfDay{0min});
  EXPECT_EQ(parse_time_of_day("23:59"), TimeOfDay{23h + 59min});
}

TEST(TimeOfDay, RefusesWhatIsNotExactlyHHMM) {
  for (const char* bad : {"25:61", "24:00", "19:60", "7:30", "19:3", "19:30:00", "1930", " 19:30",
                          "19.30", "", "ab:cd", "-1:30"})
    EXPECT_EQ(parse_time_of_day(bad), std::nullopt) << bad;
}

TEST(TimeOfDay, PrintsWithLeadingZeros) {
  EXPECT_EQ(format_time_of_day(TimeOfDay{7h + 5min}), "07:05");
  EXPECT_EQ(format_time_of_day(TimeOfDay{23h + 59min}), "23:59");
}

TEST(Duration, ReadsTheConfigGrammar) {
  EXPECT_EQ(parse_duration("15m"), 15min);
  EXPECT_EQ(parse_duration("1h15m"), 75min);
  EXPECT_EQ(parse_duration("90s"), 90s);
  EXPECT_EQ(parse_duration("0m"), 0s);
  EXPECT_EQ(parse_duration("2h"), 2h);
}

TEST(Duration, RefusesSignsUnknownUnitsAndDisorder) {
  for (const char* bad :
       {"-30m", "30x", "30", "m", "1h 15m", "15m1h", "1.5h", "", "5M", "99999999999h"})
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
}

TEST(Offset, ReadsASignedDuration) {
  EXPECT_EQ(parse_offset("-30m"), -30min);
  EXPECT_EQ(parse_offset("+10m"), 10min);
  EXPECT_EQ(parse_offset("1h15m"), 75min);
  EXPECT_EQ(parse_offset("-0m"), 0s);
}

TEST(Offset, RefusesAnUnknownUnitAfterTheSign) {
  EXPECT_EQ(parse_offset("-30x"), std::nullopt);
  EXPECT_EQ(parse_offset("--30m"), std::nullopt);
  EXPECT_EQ(parse_offset("-"), std::nullopt);
  EXPECT_EQ(parse_offset("+-5m"), std::nullopt);
}

TEST(Duration, PrintsCanonicallyAndReadsBackTheSame) {
  EXPECT_EQ(format_duration(75min), "1h15m");
  EXPECT_EQ(format_duration(-30min), "-30m");
  EXPECT_EQ(format_duration(0s), "0m");
  EXPECT_EQ(format_duration(3630s), "1h30s");
  for (Seconds d : {Seconds{-45}, Seconds{59}, Seconds{3600}, Seconds{86399}, Seconds{-7260}})
    EXPECT_EQ(parse_offset(format_duration(d)), d) << format_duration(d);
}

TEST(Instant, ReadsUtcAndOffsetsToTheSameInstant) {
  const auto utc = parse_instant("2027-03-28T17:30:00Z");
  ASSERT_TRUE(utc);
  EXPECT_EQ(parse_instant("2027-03-28T19:30:00+02:00"), utc);
  EXPECT_EQ(parse_instant("2027-03-28T23:15:00+05:45"), utc);
  EXPECT_EQ(parse_instant("2027-03-28T13:30:00-04:00"), utc);
  EXPECT_EQ(format_utc(*utc), "2027-03-28T17:30:00Z");
}

TEST(Instant, KeepsMillisecondsAndShowsThemOnlyWhenThere) {
  const auto t = parse_instant("2027-03-28T17:30:00.250Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_utc(*t), "2027-03-28T17:30:00.250Z");
  EXPECT_EQ(parse_instant("2027-03-28T17:30:00.2509Z"), t);
}

TEST(Instant, RefusesATimeWithoutZoneAndMalformedText) {
  for (const char* bad : {"2027-03-28T17:30:00", "2027-03-28 17:30:00Z", "2027-02-30T10:00:00Z",
                          "2027-03-28T24:00:00Z", "2027-03-28T17:30Z", "2027-03-28T17:30:00+0200",
                          "2027-03-28T17:30:00Zjunk", "2027-03-28T17:30:00.Z", "yesterday", ""})
    EXPECT_EQ(parse_instant(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace nursery::schedule
