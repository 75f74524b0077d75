// The Hub's half of the sleep log: which room, whether a time is believable,
// and storing. Reading the log (nights, the summary, CSV) is
// daemon/sleep_log's, from what sleep_log() returns.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "hub.hpp"

namespace nursery {

namespace {

// The log covers at most this much per request: a year and a day, enough
// for any summary, bounded so that one request cannot read the whole file.
constexpr Duration kMaxLogSpan = std::chrono::days(367);

}  // namespace

Expected<SleepEntry> Hub::add_sleep_entry(const SleepEntryRequest& request) {
  std::string room_id;
  if (request.room) {
    if (!find_room(*request.room))
      return Error{"unknown_room", fmt::format("There is no room \"{}\".", *request.room), 404};
    room_id = *request.room;
  } else if (rooms_.size() == 1) {
    room_id = rooms_.front()->id();
  } else {
    std::string ids;
    for (const auto& r : rooms_) ids += (ids.empty() ? "" : ", ") + r->id();
    return Error{"invalid_request", fmt::format("Say which room: the hub has several ({}).", ids),
                 400};
  }
  const TimePoint now = clock_.now();
  const TimePoint at = request.at.value_or(now);
  if (at > now + kSleepEntryMaxAhead)
    return Error{
        "invalid_value",
        fmt::format("at {} is in the future (the hub's time is {}); log what has "
                    "happened, at most {} min ahead",
                    format_utc(at), format_utc(now),
                    std::chrono::duration_cast<std::chrono::minutes>(kSleepEntryMaxAhead).count()),
        400};
  SleepEntry entry{0,  room_id,      request.kind,
                   at, request.note, std::string(command_source_name(request.source))};
  auto id = store_.add_sleep_entry(entry);
  if (!id) {
    note_store_problem(id.error());
    return id.error();
  }
  entry.id = *id;
  log_.notice("{}: sleep log: {} at {}", find_room(room_id)->config().name,
              sleep_kind_name(entry.kind), devices_.local_time(entry.at));
  return entry;
}

Expected<SleepLogData> Hub::sleep_log(const SleepLogQuery& query) const {
  if (query.room && !find_room(*query.room))
    return Error{"unknown_room", fmt::format("There is no room \"{}\".", *query.room), 404};
  if (query.to <= query.from)
    return Error{"invalid_value",
                 fmt::format("to ({}) must be after from ({})", format_utc(query.to),
                             format_utc(query.from)),
                 400};
  if (query.to - query.from > kMaxLogSpan)
    return Error{"invalid_value", "from and to may be at most 367 days apart", 400};
  SleepLogData data;
  data.now = clock_.now();
  data.time_zone = config_.hub.time_zone;
  data.birth_date = config_.child.birth_date;
  data.wake_windows = schedule::default_wake_windows();
  for (const auto& r : config_.routines)
    if (r.kind == config::RoutineKind::Bedtime) data.bedtime_routines.push_back(r.id);
  for (const auto& r : rooms_)
    if (!query.room || r->id() == *query.room) data.rooms.push_back(r->id());

  auto runs = store_.recent_runs(RunQuery{.room = query.room,
                                          .limit = std::numeric_limits<std::size_t>::max(),
                                          .started_from = query.from,
                                          .started_before = query.to});
  if (!runs) return runs.error();
  data.runs.assign(runs->rbegin(), runs->rend());
  auto entries = store_.sleep_entries(
      SleepQuery{.room = query.room, .from = query.from, .to = query.to, .limit = 100000});
  if (!entries) return entries.error();
  data.entries = std::move(*entries);
  for (const auto& room : data.rooms) {
    auto last = store_.last_wake_up(room);
    if (!last) return last.error();
    data.last_wake_ups.push_back(*last);
  }
  return data;
}

}  // namespace nursery
