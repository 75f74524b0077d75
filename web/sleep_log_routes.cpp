#include "web/sleep_log_routes.hpp"

#include <fmt/format.h>

#include <charconv>

#include "daemon/api_json/api_json.hpp"
#include "daemon/schedule/civil_time.hpp"
#include "daemon/schedule/time_text.hpp"
#include "daemon/sleep_log/night.hpp"
#include "daemon/sleep_log/sleep_log_json.hpp"

namespace nursery {

namespace {

using nlohmann::json;

ApiReply reply_error(const Error& error) {
  const int status = error.http_status >= 400 && error.http_status <= 599 ? error.http_status : 500;
  return ApiReply{status, error_json(error), {}};
}

Error invalid_request(std::string message) {
  return Error{"invalid_request", std::move(message), 400};
}
Error invalid_value(std::string message) { return Error{"invalid_value", std::move(message), 400}; }

std::string shown(std::string_view text) {
  constexpr std::size_t kMax = 64;
  return text.size() <= kMax ? fmt::format("\"{}\"", text)
                             : fmt::format("\"{}...\"", text.substr(0, kMax));
}

Expected<const date::time_zone*> hub_zone(const std::string& name) {
  return schedule::find_zone(name);
}

Expected<TimePoint> read_time(std::string_view key, const std::string& text) {
  if (auto t = schedule::parse_instant(text)) return *t;
  return invalid_value(
      fmt::format("{} must be an ISO 8601 time with its zone, like 2026-12-01T00:00:00Z, got {}",
                  key, shown(text)));
}

Expected<std::string> read_room(const std::string& text) {
  if (text.empty()) return invalid_request("room needs an id, as in ?room=nursery");
  return text;
}

// The room a summary is for: the one named, or the hub's only room.
Expected<std::string> summary_room(HubApi& hub, const std::optional<std::string>& named) {
  if (named) return *named;
  const HubStatus status = hub.status();
  if (status.rooms.size() == 1) return status.rooms.front().id;
  std::string ids;
  for (const auto& r : status.rooms) ids += (ids.empty() ? "" : ", ") + r.id;
  return invalid_request(fmt::format("say which room, as in ?room=…: the hub has {}", ids));
}

}  // namespace

ApiReply post_sleep_entry(HubApi& hub, const json& body) {
  auto request = sleep_log::parse_entry_request(body);
  if (!request) return reply_error(request.error());
  request->source = CommandSource::Control;
  auto entry = hub.add_sleep_entry(*request);
  if (!entry) return reply_error(entry.error());
  auto zone = hub_zone(hub.status().time_zone);
  if (!zone) return reply_error(zone.error());
  return ApiReply{201, sleep_log::to_json(*entry, **zone), {}};
}

ApiReply get_sleep_log(HubApi& hub, const QueryParams& query) {
  SleepLogQuery q;
  std::optional<TimePoint> from, to;
  bool csv = false;
  for (const auto& [key, value] : query) {
    if (key == "from" || key == "to") {
      auto t = read_time(key, value);
      if (!t) return reply_error(t.error());
      (key == "from" ? from : to) = *t;
    } else if (key == "room") {
      auto room = read_room(value);
      if (!room) return reply_error(room.error());
      q.room = *room;
    } else if (key == "format") {
      if (value != "json" && value != "csv")
        return reply_error(
            invalid_value(fmt::format("format must be json or csv, got {}", shown(value))));
      csv = value == "csv";
    } else {
      return reply_error(invalid_request(fmt::format(
          "unknown query parameter {}: /api/v1/sleep-log takes from, to, room and format",
          shown(key))));
    }
  }
  const HubStatus status = hub.status();
  q.to = to.value_or(status.now + kSleepEntryMaxAhead);
  q.from = from.value_or(q.to - std::chrono::days(kDefaultSleepLogDays));
  auto log = hub.sleep_log(q);
  if (!log) return reply_error(log.error());
  auto zone = hub_zone(log->time_zone);
  if (!zone) return reply_error(zone.error());
  if (csv) {
    ApiReply reply{200, {}, {}};
    reply.content_type = "text/csv; charset=utf-8";
    reply.text = sleep_log::log_csv(*log, **zone);
    return reply;
  }
  return ApiReply{200, sleep_log::log_json(*log, q.from, q.to, **zone), {}};
}

ApiReply get_sleep_summary(HubApi& hub, const QueryParams& query) {
  int days = 14;
  std::optional<std::string> room;
  for (const auto& [key, value] : query) {
    if (key == "days") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || n < 1 ||
          n > kMaxSummaryDays)
        return reply_error(invalid_value(fmt::format(
            "days must be a whole number from 1 to {}, got {}", kMaxSummaryDays, shown(value))));
      days = n;
    } else if (key == "room") {
      auto r = read_room(value);
      if (!r) return reply_error(r.error());
      room = *r;
    } else {
      return reply_error(invalid_request(
          fmt::format("unknown query parameter {}: /api/v1/sleep-log/summary takes days and room",
                      shown(key))));
    }
  }
  auto which = summary_room(hub, room);
  if (!which) return reply_error(which.error());
  const TimePoint now = hub.status().now;
  // A day more than asked, for a night that began just before the span.
  auto log = hub.sleep_log(SleepLogQuery{
      .room = *which, .from = now - std::chrono::days(days + 1), .to = now + kSleepEntryMaxAhead});
  if (!log) return reply_error(log.error());
  auto zone = hub_zone(log->time_zone);
  if (!zone) return reply_error(zone.error());
  return ApiReply{
      200, sleep_log::to_json(sleep_log::summarize(*log, *which, days, **zone), **zone), {}};
}

}  // namespace nursery
