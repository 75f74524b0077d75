#include "daemon/schedule/civil_time.hpp"

#include <fmt/format.h>

#include <exception>

namespace nursery::schedule {

Expected<const date::time_zone*> find_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception& e) {
    // locate_zone reports an unknown name and an unreadable database alike.
    return Error{
        "unknown_time_zone",
        fmt::format("There is no time zone \"{}\" in the tz database ({}).", name, e.what()), 400};
  }
}

ResolvedTime resolve_local(const date::time_zone& zone, date::local_seconds wall) {
  const date::local_info info = zone.get_info(wall);
  switch (info.result) {
    case date::local_info::unique:
      return {Instant{wall.time_since_epoch() - info.first.offset}, WallTimeFit::Exact};
    case date::local_info::nonexistent:
      // The gap ends where the new offset begins: that instant is the first
      // one after the gap.
      return {Instant{info.second.begin}, WallTimeFit::InGap};
    case date::local_info::ambiguous:
      // `first` is the offset in force before the change: the earlier occurrence.
      return {Instant{wall.time_since_epoch() - info.first.offset}, WallTimeFit::Overlap};
  }
  return {Instant{wall.time_since_epoch() - info.first.offset}, WallTimeFit::Exact};
}

ResolvedTime resolve_local(const date::time_zone& zone, date::year_month_day day, TimeOfDay time) {
  return resolve_local(zone, date::local_days{day} + time.since_midnight);
}

date::local_seconds to_local(const date::time_zone& zone, Instant t) {
  return zone.to_local(std::chrono::floor<std::chrono::seconds>(t));
}

date::year_month_day local_date(const date::time_zone& zone, Instant t) {
  return date::year_month_day{date::floor<date::days>(to_local(zone, t))};
}

date::weekday local_weekday(const date::time_zone& zone, Instant t) {
  return date::weekday{date::floor<date::days>(to_local(zone, t))};
}

std::string format_local(const date::time_zone& zone, Instant t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  return date::format("%FT%T%Ez", date::zoned_time<std::chrono::seconds>(&zone, secs));
}

std::string format_local_hhmm(const date::time_zone& zone, Instant t) {
  return date::format("%H:%M", to_local(zone, t));
}

}  // namespace nursery::schedule
