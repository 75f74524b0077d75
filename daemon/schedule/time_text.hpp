#pragma once
// The written forms of times a parent types and reads: a time of day
// "19:30", a duration "1h15m", a signed offset "-30m", an instant
// "2027-03-28T17:30:00Z". Strict on input (what is not exactly one of these is
// refused, so that "7:5" or "30 min" never means something by accident),
// canonical on output. Pure functions: any thread; nothing here throws.

#include <chrono>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace nursery::schedule {

// An instant on the UTC time line. The same type as the core's TimePoint
// (daemon/clock.hpp), so the hub passes its clock's now() as it is.
using Instant = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;
using Seconds = std::chrono::seconds;

// A local time of day, minute precision, 00:00..23:59.
struct TimeOfDay {
  std::chrono::minutes since_midnight{0};
  auto operator<=>(const TimeOfDay&) const = default;
};

// "HH:MM", two digits each, 00..23 and 00..59. "7:30", "24:00", "19:30:00" are refused.
std::optional<TimeOfDay> parse_time_of_day(std::string_view text);
std::string format_time_of_day(TimeOfDay time);  // "07:05"

// Units h, m, s in that order, each at most once, non-negative integers:
// "90s", "15m", "1h15m", "2h", "0m". The same grammar as the config's
// durations (config/loader.hpp), so a schedule reads the same in both places.
std::optional<Seconds> parse_duration(std::string_view text);
// A duration with an optional sign: "-30m", "+10m", "1h15m".
std::optional<Seconds> parse_offset(std::string_view text);
// Canonical: "1h15m", "30m", "45s", "1h30s", "0m"; negative ones with "-".
// Offsets and durations are printed the same way, so parse(format(x)) == x.
std::string format_duration(Seconds d);

// ISO 8601 with seconds and a zone designator: "2027-03-28T17:30:00Z",
// "2027-03-28T19:30:00+02:00", optionally with fractional seconds
// ("…T17:30:00.250Z", kept to the millisecond). Anything else is refused,
// including a time without a zone (it would mean a different instant on
// every hub).
std::optional<Instant> parse_instant(std::string_view text);
// "2027-03-28T17:30:00Z", milliseconds shown only when not zero.
std::string format_utc(Instant t);

}  // namespace nursery::schedule
