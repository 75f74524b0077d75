#pragma once
// Wake windows: how long a baby of a given age is typically awake between two
// sleeps. A wake-window schedule starts its routine when the window that began
// at the last logged wake-up ends. The table is data (the config may replace
// it); the defaults below are practical guidance, not medical advice.
//
// Pure functions: any thread; nothing here throws.

#include <date/date.h>

#include <chrono>
#include <optional>
#include <vector>

#include "daemon/expected.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery::schedule {

struct WakeWindowBracket {
  int from_months = 0;   // completed calendar months of age at which this bracket starts
  Seconds window{3600};  // how long the baby is awake before the next sleep
  bool operator==(const WakeWindowBracket&) const = default;
};

// Brackets in increasing from_months; the first starts at 0 months and the
// last one holds for every older age.
using WakeWindowTable = std::vector<WakeWindowBracket>;

// One value per bracket, from ../shared/docs/field-notes.md ("Sleep duration,
// wake windows, bedtimes"). The source is summerhealth.com's table (a
// certified sleep consultant): 0-1 mo 30-60 min, 2 mo 60-90 min, 3 mo
// 75-120 min, 4 mo 90-120 min, 5-6 mo 2-3 h, 7-10 mo 2.5-3.5 h, 11-12 mo
// 3-4 h; each value is the middle of its range, rounded to 15 minutes, and the
// first month splits like tinylog.app's (0-4 wk 45 min, 4-8 wk 45-75 min).
// Past 12 months the notes have nothing, so the last value holds: a config
// for a toddler should give its own table.
//
//   from  0 months  45m     from  4 months  1h45m
//   from  1 month   1h      from  5 months  2h30m
//   from  2 months  1h15m   from  7 months  3h
//   from  3 months  1h30m   from 11 months  3h30m
WakeWindowTable default_wake_windows();

// "invalid_value" unless: not empty, the first bracket from 0 months,
// from_months strictly increasing, every window from 15m to 8h.
Status check_wake_windows(const WakeWindowTable& table);

// Completed calendar months from birth to `on` (2026-09-01 to 2026-10-01 is
// 1; to 2026-09-30 is 0; the 31st to the 30th of a shorter month counts as
// a month). A date before the birth date counts as 0.
int age_in_months(date::year_month_day birth, date::year_month_day on);

// The window for a baby of `months` completed months. The table must be valid.
Seconds wake_window_for(const WakeWindowTable& table, int months);

}  // namespace nursery::schedule
