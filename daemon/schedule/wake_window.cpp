#include "daemon/schedule/wake_window.hpp"

#include <fmt/format.h>

namespace nursery::schedule {

WakeWindowTable default_wake_windows() {
  using std::chrono::minutes;
  return {
      {0, minutes{45}},  {1, minutes{60}},  {2, minutes{75}},  {3, minutes{90}},
      {4, minutes{105}}, {5, minutes{150}}, {7, minutes{180}}, {11, minutes{210}},
  };
}

Status check_wake_windows(const WakeWindowTable& table) {
  constexpr Seconds kShortest{15 * 60};
  constexpr Seconds kLongest{8 * 3600};
  if (table.empty() || table.front().from_months != 0)
    return Error{"invalid_value", "the wake-window table must start with a bracket from 0 months",
                 400};
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (i > 0 && table[i].from_months <= table[i - 1].from_months)
      return Error{"invalid_value",
                   fmt::format("wake-window brackets must be in increasing age: {} months comes "
                               "after {} months",
                               table[i].from_months, table[i - 1].from_months),
                   400};
    if (table[i].window < kShortest || table[i].window > kLongest)
      return Error{"invalid_value",
                   fmt::format("the wake window from {} months is {}: it must be from {} to {}",
                               table[i].from_months, format_duration(table[i].window),
                               format_duration(kShortest), format_duration(kLongest)),
                   400};
  }
  return Ok{};
}

int age_in_months(date::year_month_day birth, date::year_month_day on) {
  int months = (static_cast<int>(on.year()) - static_cast<int>(birth.year())) * 12 +
               (static_cast<int>(static_cast<unsigned>(on.month())) -
                static_cast<int>(static_cast<unsigned>(birth.month())));
  if (on.day() < birth.day()) {
    // Born on the 31st: the 30th of a 30-day month still completes the month.
    const bool last_day_of_month =
        on.day() == date::year_month_day_last{on.year(), date::month_day_last{on.month()}}.day();
    if (!last_day_of_month) --months;
  }
  return months < 0 ? 0 : months;
}

Seconds wake_window_for(const WakeWindowTable& table, int months) {
  Seconds window = table.empty() ? Seconds{3600} : table.front().window;
  for (const WakeWindowBracket& b : table)
    if (months >= b.from_months) window = b.window;
  return window;
}

}  // namespace nursery::schedule
