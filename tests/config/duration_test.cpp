#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace nursery::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TEST(ParseDuration, ReadsEachUnitAlone) {
  EXPECT_EQ(parse_duration("90s"), Seconds{90});
  EXPECT_EQ(parse_duration("5m"), minutes{5});
  EXPECT_EQ(parse_duration("2h"), hours{2});
}

TEST(ParseDuration, AddsUnitsWrittenTogether) {
  EXPECT_EQ(parse_duration("1h30m"), minutes{90});
  EXPECT_EQ(parse_duration("1h5m30s"), hours{1} + minutes{5} + Seconds{30});
  EXPECT_EQ(parse_duration("2m30s"), Seconds{150});
  EXPECT_EQ(parse_duration("1h30s"), Seconds{3630});
}

TEST(ParseDuration, AcceptsZero) {
  EXPECT_EQ(parse_duration("0s"), Seconds{0});
  EXPECT_EQ(parse_duration("0h0m0s"), Seconds{0});
}

TEST(ParseDuration, AcceptsAUnitBeyondTheNextOne) {
  // "90m" is a natural way to write an hour and a half.
  EXPECT_EQ(parse_duration("90m"), minutes{90});
  EXPECT_EQ(parse_duration("36h"), hours{36});
}

TEST(ParseDuration, RejectsEmptyAndUnitlessText) {
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(parse_duration("30"), std::nullopt);
  EXPECT_EQ(parse_duration("1h30"), std::nullopt);
  EXPECT_EQ(parse_duration("m"), std::nullopt);
  EXPECT_EQ(parse_duration("h5m"), std::nullopt);
}

TEST(ParseDuration, RejectsUnitsOutOfOrderOrRepeated) {
  EXPECT_EQ(parse_duration("30m1h"), std::nullopt);
  EXPECT_EQ(parse_duration("5s5m"), std::nullopt);
  EXPECT_EQ(parse_duration("1m1m"), std::nullopt);
  EXPECT_EQ(parse_duration("1h2h"), std::nullopt);
}

TEST(ParseDuration, RejectsUnknownUnitsSignsSpacesAndFractions) {
  EXPECT_EQ(parse_duration("1d"), std::nullopt);
  EXPECT_EQ(parse_duration("5 minutes"), std::nullopt);
  EXPECT_EQ(parse_duration("5min"), std::nullopt);
  EXPECT_EQ(parse_duration("-5m"), std::nullopt);
  EXPECT_EQ(parse_duration("+5m"), std::nullopt);
  EXPECT_EQ(parse_duration(" 5m"), std::nullopt);
  EXPECT_EQ(parse_duration("5m "), std::nullopt);
  EXPECT_EQ(parse_duration("1h 30m"), std::nullopt);
  EXPECT_EQ(parse_duration("1.5h"), std::nullopt);
  EXPECT_EQ(parse_duration("5M"), std::nullopt);
  EXPECT_EQ(parse_duration("abc"), std::nullopt);
}

TEST(ParseDuration, RejectsNumbersTooLargeToAddUp) {
  EXPECT_EQ(parse_duration("99999999999999999999999h"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854775807s"), std::nullopt);
  EXPECT_EQ(parse_duration("1000000000h"), hours{1'000'000'000});
}

}  // namespace
}  // namespace nursery::config
