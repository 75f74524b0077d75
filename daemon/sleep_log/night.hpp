#pragma once
// How a night is read from the sleep log: the runs of bedtime routines and
// the entries parents log (asleep, waking, awake). The rules, also in the
// README:
//
//  - A night belongs to the local date of its evening, and spans noon to
//    noon in the hub's zone: the night of 2026-12-01 is everything from
//    2026-12-01 12:00 to 2026-12-02 12:00 local.
//  - Its bedtime is the start of the first run of a bedtime routine in that
//    span. Without one, the night starts at the first "asleep" logged from
//    17:00 (an afternoon nap logged without a routine is not a night).
//  - It fell asleep at the first "asleep" at or after the bedtime; the time
//    to fall asleep is from the bedtime run's start to then.
//  - It ended at the last "awake" of the span that no later "asleep"
//    follows (the morning wake-up, before noon). An "asleep" after every
//    "awake" means the night has no end logged yet.
//  - Wakings are the "waking" entries between falling asleep and the end,
//    plus each "awake" there that a later "asleep" follows (woke up, was
//    settled again).
//  - The night's length is from falling asleep to the morning wake-up.
//  - Entries before the bedtime in the span (a nap) are in the log but not
//    in the night.
//
// Pure functions: any thread; nothing here throws.

#include <date/tz.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/clock.hpp"
#include "daemon/hub_api.hpp"
#include "daemon/run_store.hpp"

namespace nursery::sleep_log {

struct Night {
  std::string room;
  date::year_month_day date;  // the local date of the evening
  TimePoint start;            // the bedtime, or the first "asleep" without a bedtime run
  std::optional<std::int64_t> bedtime_run;  // the run whose start is the bedtime
  std::optional<TimePoint> asleep_at;
  std::optional<TimePoint> woke_at;
  int wakings = 0;

  std::optional<Duration> time_to_sleep() const;  // needs a bedtime run and an "asleep"
  std::optional<Duration> length() const;         // from asleep to the morning wake-up
};

// The nights of every room in `log`, by room (in the order of log.rooms)
// then date.
std::vector<Night> assemble_nights(const SleepLogData& log, const date::time_zone& zone);

struct Summary {
  std::string room;
  int days = 0;
  std::vector<Night> nights;  // those whose start lies in the last `days` days
  // Population standard deviation of the nights' start, in minutes; needs
  // two nights. Starts are compared as times after noon, so 23:50 and 00:10
  // are 20 minutes apart.
  std::optional<double> bedtime_sd_minutes;
  std::optional<Duration> mean_bedtime;  // after local midnight, 0..24h
  std::optional<double> mean_time_to_sleep_minutes;
  std::optional<double> wakings_per_night;  // over the nights with an "asleep"
  std::optional<double> mean_night_length_minutes;
  // The next sleep the wake window predicts: the last logged wake-up plus
  // the window for the child's age that day.
  std::optional<TimePoint> last_wake_up;
  std::optional<std::chrono::seconds> wake_window;
  std::optional<TimePoint> next_sleep;
  std::string next_sleep_reason;  // "wake window 2h30m after 07:05", or why there is none
};

// The summary of one room over the `days` days before log.now. `log` must
// cover them (and the day before, for a night that began then).
Summary summarize(const SleepLogData& log, const std::string& room, int days,
                  const date::time_zone& zone);

}  // namespace nursery::sleep_log
