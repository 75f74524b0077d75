#include "daemon/sleep_log/night.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "daemon/schedule/civil_time.hpp"
#include "daemon/schedule/time_text.hpp"
#include "daemon/schedule/wake_window.hpp"

namespace nursery::sleep_log {

namespace {

using namespace std::chrono_literals;

// The date of the night an instant belongs to: noon to noon, local.
date::local_days night_of(const date::time_zone& zone, TimePoint t) {
  return date::floor<date::days>(schedule::to_local(zone, t) - 12h);
}

// Local time after the noon that opens the night.
std::chrono::seconds after_noon(const date::time_zone& zone, TimePoint t) {
  const auto local = schedule::to_local(zone, t);
  return local - (night_of(zone, t) + 12h);
}

double minutes(Duration d) { return static_cast<double>(d.count()) / 60000.0; }

bool is_bedtime(const SleepLogData& log, const RunRecord& run) {
  return std::find(log.bedtime_routines.begin(), log.bedtime_routines.end(), run.routine) !=
         log.bedtime_routines.end();
}

// One night from the bedtime runs and entries of one room's span (both
// oldest first); nullopt when nothing in it makes a night.
std::optional<Night> read_night(const std::string& room, date::local_days day,
                                const std::vector<const RunRecord*>& bedtimes,
                                const std::vector<const SleepEntry*>& entries,
                                const date::time_zone& zone) {
  Night night;
  night.room = room;
  night.date = date::year_month_day{day};
  std::size_t first = 0;  // the first entry that belongs to the night
  if (!bedtimes.empty()) {
    night.start = bedtimes.front()->started_at;
    night.bedtime_run = bedtimes.front()->id;
    while (first < entries.size() && entries[first]->at < night.start) ++first;
  } else {
    // 17:00 is five hours after the noon that opens the span.
    while (first < entries.size() &&
           (entries[first]->kind != SleepKind::Asleep || after_noon(zone, entries[first]->at) < 5h))
      ++first;
    if (first == entries.size()) return std::nullopt;
    night.start = entries[first]->at;
  }
  std::size_t asleep = first;
  while (asleep < entries.size() && entries[asleep]->kind != SleepKind::Asleep) ++asleep;
  if (asleep == entries.size()) return night;
  night.asleep_at = entries[asleep]->at;
  // The morning wake-up: the last "awake" with no "asleep" after it.
  // Its index, or entries.size() for none (a plain index: GCC's -Os
  // flow analysis misreads an optional here as maybe uninitialized).
  std::size_t stop = entries.size();
  for (std::size_t i = asleep + 1; i < entries.size(); ++i) {
    if (entries[i]->kind == SleepKind::Awake) stop = i;
    if (entries[i]->kind == SleepKind::Asleep) stop = entries.size();
  }
  if (stop < entries.size()) night.woke_at = entries[stop]->at;
  for (std::size_t i = asleep + 1; i < stop; ++i) {
    if (entries[i]->kind == SleepKind::Waking) ++night.wakings;
    if (entries[i]->kind != SleepKind::Awake) continue;
    // Settled again: an "asleep" follows before the end.
    for (std::size_t j = i + 1; j < stop; ++j) {
      if (entries[j]->kind == SleepKind::Awake) break;
      if (entries[j]->kind == SleepKind::Asleep) {
        ++night.wakings;
        break;
      }
    }
  }
  return night;
}

std::optional<double> mean(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

}  // namespace

std::optional<Duration> Night::time_to_sleep() const {
  if (!bedtime_run || !asleep_at) return std::nullopt;
  return std::max(Duration{0}, *asleep_at - start);
}

std::optional<Duration> Night::length() const {
  if (!asleep_at || !woke_at) return std::nullopt;
  return *woke_at - *asleep_at;
}

std::vector<Night> assemble_nights(const SleepLogData& log, const date::time_zone& zone) {
  std::vector<Night> nights;
  for (const std::string& room : log.rooms) {
    std::map<date::local_days, std::vector<const RunRecord*>> bedtimes;
    std::map<date::local_days, std::vector<const SleepEntry*>> entries;
    for (const auto& run : log.runs)
      if (run.room == room && is_bedtime(log, run))
        bedtimes[night_of(zone, run.started_at)].push_back(&run);
    for (const auto& e : log.entries)
      if (e.room == room) entries[night_of(zone, e.at)].push_back(&e);
    std::vector<date::local_days> days;
    for (const auto& [day, list] : bedtimes) days.push_back(day);
    for (const auto& [day, list] : entries) days.push_back(day);
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    for (const auto day : days) {
      auto night = read_night(room, day, bedtimes[day], entries[day], zone);
      if (night) nights.push_back(std::move(*night));
    }
  }
  return nights;
}

Summary summarize(const SleepLogData& log, const std::string& room, int days,
                  const date::time_zone& zone) {
  Summary s;
  s.room = room;
  s.days = days;
  const TimePoint since = log.now - std::chrono::days(days);
  for (auto& night : assemble_nights(log, zone))
    if (night.room == room && night.start >= since && night.start < log.now)
      s.nights.push_back(std::move(night));

  std::vector<double> starts, to_sleep, wakings, lengths;
  for (const Night& n : s.nights) {
    starts.push_back(static_cast<double>(after_noon(zone, n.start).count()) / 60.0);
    if (auto d = n.time_to_sleep()) to_sleep.push_back(minutes(*d));
    if (n.asleep_at) wakings.push_back(n.wakings);
    if (auto d = n.length()) lengths.push_back(minutes(*d));
  }
  if (auto m = mean(starts)) {
    // Minutes after noon, back to a time after midnight.
    const double after_midnight = std::fmod(*m + 12 * 60, 24 * 60);
    s.mean_bedtime = Duration{static_cast<std::int64_t>(std::llround(after_midnight * 60000))};
    if (starts.size() >= 2) {
      double squares = 0;
      for (double v : starts) squares += (v - *m) * (v - *m);
      s.bedtime_sd_minutes = std::sqrt(squares / static_cast<double>(starts.size()));
    }
  }
  s.mean_time_to_sleep_minutes = mean(to_sleep);
  s.wakings_per_night = mean(wakings);
  s.mean_night_length_minutes = mean(lengths);

  const auto at = std::find(log.rooms.begin(), log.rooms.end(), room);
  const auto index = static_cast<std::size_t>(at - log.rooms.begin());
  if (at != log.rooms.end() && index < log.last_wake_ups.size() && log.last_wake_ups[index])
    s.last_wake_up = log.last_wake_ups[index]->at;
  if (!s.last_wake_up) {
    s.next_sleep_reason = "no wake-up is logged yet: log one with \"awake\"";
  } else if (!log.birth_date) {
    s.next_sleep_reason = "the child's birth_date is not in the config, so no wake window applies";
  } else {
    const auto on = schedule::local_date(zone, *s.last_wake_up);
    const int months = schedule::age_in_months(date::year_month_day{*log.birth_date}, on);
    s.wake_window = schedule::wake_window_for(log.wake_windows, months);
    s.next_sleep = *s.last_wake_up + std::chrono::duration_cast<Duration>(*s.wake_window);
    s.next_sleep_reason =
        fmt::format("wake window {} after {}", schedule::format_duration(*s.wake_window),
                    schedule::format_local_hhmm(zone, *s.last_wake_up));
  }
  return s;
}

}  // namespace nursery::sleep_log
