#include "schedule_routes.hpp"

#include <fmt/format.h>

#include <charconv>

#include "daemon/schedule/planner.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery {
namespace {

using nlohmann::json;

Error invalid_request(std::string message) {
  return Error{"invalid_request", std::move(message), 400};
}

Error unknown_parameter(std::string_view key, std::string_view route, std::string_view takes) {
  return invalid_request(
      fmt::format("unknown query parameter {}: {} takes {}", routes::shown(key), route, takes));
}

// "2027-03-28": exactly four, two and two digits, a real date.
std::optional<date::year_month_day> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto y = number(0, 4), m = number(5, 2), d = number(8, 2);
  if (!y || !m || !d) return std::nullopt;
  date::year_month_day day{date::year{*y}, date::month{static_cast<unsigned>(*m)},
                           date::day{static_cast<unsigned>(*d)}};
  if (!day.ok()) return std::nullopt;
  return day;
}

ApiReply get_schedules(HubApi& hub, const std::string& room) {
  auto list = hub.schedules(room);
  if (!list) return routes::from_error(list.error());
  return ApiReply{200, schedule::to_json(*list), {}};
}

ApiReply put_schedules(HubApi& hub, const std::string& room, std::string_view body) {
  auto parsed = routes::parse_json_body(body);
  if (!parsed) return routes::from_error(parsed.error());
  auto list = schedule::schedules_body_from_json(*parsed);
  if (!list) return routes::from_error(list.error());
  auto set = hub.set_schedules(room, std::move(*list));
  if (!set) return routes::from_error(set.error());
  return ApiReply{200, schedule::to_json(*set), {}};
}

ApiReply get_next(HubApi& hub, const std::string& room, std::string_view query) {
  auto pairs = routes::parse_query(query);
  if (!pairs) return routes::from_error(pairs.error());
  std::optional<TimePoint> from;
  std::size_t count = kDefaultNextCount;
  for (const auto& [key, value] : *pairs) {
    if (key == "from") {
      from = schedule::parse_instant(value);
      if (!from)
        return routes::from_error(invalid_request(fmt::format(
            "from must be an ISO 8601 time with its zone, as in 2027-03-28T17:30:00Z or "
            "2027-03-28T19:30:00+02:00, got {}",
            routes::shown(value))));
    } else if (key == "count") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
      if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || count < 1 ||
          count > schedule::kMaxTriggers)
        return routes::from_error(
            invalid_request(fmt::format("count must be a whole number from 1 to {}, got {}",
                                        schedule::kMaxTriggers, routes::shown(value))));
    } else {
      return routes::from_error(
          unknown_parameter(key, "/api/v1/rooms/{room}/next", "from and count"));
    }
  }
  auto plan = hub.next_triggers(room, from, count);
  if (!plan) return routes::from_error(plan.error());
  return ApiReply{200, schedule::to_json(*plan), {}};
}

ApiReply get_sun(HubApi& hub, std::string_view query) {
  auto pairs = routes::parse_query(query);
  if (!pairs) return routes::from_error(pairs.error());
  std::optional<date::year_month_day> day;
  for (const auto& [key, value] : *pairs) {
    if (key != "date") return routes::from_error(unknown_parameter(key, "/api/v1/sun", "date"));
    day = parse_date(value);
    if (!day)
      return routes::from_error(invalid_request(fmt::format(
          "date must be a date as YYYY-MM-DD, as in 2027-06-21, got {}", routes::shown(value))));
  }
  auto sun = hub.sun(day);
  if (!sun) return routes::from_error(sun.error());
  return ApiReply{200, schedule::to_json(*sun), {}};
}

}  // namespace

std::optional<ApiReply> route_schedules(HubApi& hub, std::string_view method, std::string_view path,
                                        const std::vector<std::string>& segments,
                                        std::string_view query, std::string_view body) {
  if (segments.size() == 1 && segments[0] == "sun") {
    if (method != "GET") return routes::method_not_allowed(method, path, "GET");
    return get_sun(hub, query);
  }
  if (segments.size() != 3 || segments[0] != "rooms") return std::nullopt;
  if (segments[2] == "schedules") {
    if (method == "GET") return get_schedules(hub, segments[1]);
    if (method == "PUT") return put_schedules(hub, segments[1], body);
    return routes::method_not_allowed(method, path, "GET, PUT");
  }
  if (segments[2] == "next") {
    if (method != "GET") return routes::method_not_allowed(method, path, "GET");
    return get_next(hub, segments[1], query);
  }
  return std::nullopt;
}

}  // namespace nursery
