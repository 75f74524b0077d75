#pragma once
// Civil (wall-clock) time through the tz database (Howard Hinnant's date-tz),
// with one explicit policy for the hours a DST change makes odd:
//
//  - a wall time in a spring-forward gap (02:30 on a day that jumps from
//    02:00 to 03:00) means the first valid instant after the gap: the instant
//    of the change itself, which reads 03:00 on the wall;
//  - a wall time in a fall-back overlap (02:30 on a day that goes from 03:00
//    back to 02:00) means its first occurrence, the one still in summer time.
//
// So a daily trigger happens exactly once on every local date, whatever the
// zone's rules: 30-minute shifts (Australia/Lord_Howe), southern-hemisphere
// rules (Australia/Sydney), changes at midnight (America/Santiago). Weekdays
// and dates are always the LOCAL ones.
//
// Pure functions: any thread. Nothing here throws (find_zone catches the tz
// database's exceptions and returns them as an Error).

#include <date/tz.h>

#include <string>
#include <string_view>

#include "daemon/expected.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery::schedule {

// The zone called `name` ("Europe/Berlin"), or "unknown_time_zone" naming it.
Expected<const date::time_zone*> find_zone(std::string_view name);

// How a wall time met the zone's rules on its day.
enum class WallTimeFit {
  Exact,    // the wall time happens once: the usual case
  InGap,    // skipped by a spring-forward change: moved to the first instant after
  Overlap,  // happens twice (fall-back): the first occurrence was taken
};

struct ResolvedTime {
  Instant at;
  WallTimeFit fit = WallTimeFit::Exact;
};

// The instant a local wall time stands for, by the policy above.
ResolvedTime resolve_local(const date::time_zone& zone, date::local_seconds wall);
ResolvedTime resolve_local(const date::time_zone& zone, date::year_month_day day, TimeOfDay time);

// The local wall time, date and weekday of an instant (seconds floored).
date::local_seconds to_local(const date::time_zone& zone, Instant t);
date::year_month_day local_date(const date::time_zone& zone, Instant t);
date::weekday local_weekday(const date::time_zone& zone, Instant t);

// "2027-03-28T19:30:00+02:00": the wall time with the offset in force then
// ("+05:45" in Asia/Kathmandu), seconds precision.
std::string format_local(const date::time_zone& zone, Instant t);
// "19:30": the wall time of day, for reasons a parent reads.
std::string format_local_hhmm(const date::time_zone& zone, Instant t);

}  // namespace nursery::schedule
