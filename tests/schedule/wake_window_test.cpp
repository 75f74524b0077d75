// The wake-window table by age: the defaults, the age a parent would count,
// and a table a config might get wrong.
#include "daemon/schedule/wake_window.hpp"

#include <gtest/gtest.h>

namespace nursery::schedule {
namespace {

using namespace std::chrono_literals;

date::year_month_day ymd(int y, unsigned m, unsigned d) {
  return date::year{y} / date::month{m} / date::day{d};
}

TEST(AgeInMonths, CountsCompletedCalendarMonths) {
  const auto birth = ymd(2026, 9, 1);
  EXPECT_EQ(age_in_months(birth, ymd(2026, 9, 1)), 0);
  EXPECT_EQ(age_in_months(birth, ymd(2026, 9, 30)), 0);
  EXPECT_EQ(age_in_months(birth, ymd(2026, 10, 1)), 1);
  EXPECT_EQ(age_in_months(birth, ymd(2027, 8, 31)), 11);
  EXPECT_EQ(age_in_months(birth, ymd(2027, 9, 1)), 12);
}

TEST(AgeInMonths, ABabyBornOnThe31stHasAMonthOnTheLastDayOfAShortMonth) {
  EXPECT_EQ(age_in_months(ymd(2027, 1, 31), ymd(2027, 2, 27)), 0);
  EXPECT_EQ(age_in_months(ymd(2027, 1, 31), ymd(2027, 2, 28)), 1);
  EXPECT_EQ(age_in_months(ymd(2027, 1, 31), ymd(2027, 4, 30)), 3);
}

TEST(AgeInMonths, ADateBeforeBirthCountsAsNewborn) {
  EXPECT_EQ(age_in_months(ymd(2027, 5, 10), ymd(2027, 1, 1)), 0);
}

TEST(WakeWindows, DefaultsGrowWithAgeFromTheFieldNotes) {
  const auto table = default_wake_windows();
  EXPECT_TRUE(check_wake_windows(table));
  EXPECT_EQ(wake_window_for(table, 0), 45min);
  EXPECT_EQ(wake_window_for(table, 1), 1h);
  EXPECT_EQ(wake_window_for(table, 2), 1h + 15min);
  EXPECT_EQ(wake_window_for(table, 3), 1h + 30min);
  EXPECT_EQ(wake_window_for(table, 4), 1h + 45min);
  EXPECT_EQ(wake_window_for(table, 6), 2h + 30min);
  EXPECT_EQ(wake_window_for(table, 9), 3h);
  EXPECT_EQ(wake_window_for(table, 11), 3h + 30min);
  EXPECT_EQ(wake_window_for(table, 30), 3h + 30min);  // the last bracket holds
  for (std::size_t i = 1; i < table.size(); ++i) EXPECT_GT(table[i].window, table[i - 1].window);
}

TEST(WakeWindows, RefusesATableThatDoesNotStartAtBirthOrIsOutOfOrder) {
  EXPECT_FALSE(check_wake_windows({}));
  EXPECT_FALSE(check_wake_windows({{1, 1h}}));
  const auto disorder = check_wake_windows({{0, 1h}, {4, 2h}, {3, 2h}});
  ASSERT_FALSE(disorder);
  EXPECT_NE(disorder.error().message.find("increasing age"), std::string::npos);
  const auto tiny = check_wake_windows({{0, 5min}});
  ASSERT_FALSE(tiny);
  EXPECT_NE(tiny.error().message.find("5m"), std::string::npos);
  EXPECT_FALSE(check_wake_windows({{0, 9h}}));
}

}  // namespace
}  // namespace nursery::schedule
