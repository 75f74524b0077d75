#include "control_routes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <optional>
#include <vector>

#include "daemon/api_json/api_json.hpp"
#include "schedule_routes.hpp"
#include "web/sleep_log_routes.hpp"

namespace nursery {
namespace {

using nlohmann::json;

ApiReply from_error(const Error& error) {
  int status = error.http_status >= 400 && error.http_status <= 599 ? error.http_status : 500;
  return ApiReply{status, error_json(error), {}};
}

ApiReply method_not_allowed(std::string_view method, std::string_view path, std::string allow) {
  ApiReply reply = api_error(405, "method_not_allowed",
                             fmt::format("{} is not allowed on {}; use {}", method, path, allow));
  reply.allow = std::move(allow);
  return reply;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes one path segment, or with `plus_is_space` one query key or
// value ('+' is a space there, as forms and URLSearchParams send it);
// nullopt on a broken escape.
std::optional<std::string> decode_segment(std::string_view in, bool plus_is_space = false) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out += ' ';
      continue;
    }
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = hex_digit(in[i + 1]);
    int lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

Error invalid_request(std::string message) {
  return Error{"invalid_request", std::move(message), 400};
}

// A client's text in a message: enough of it to recognise, not a whole header.
std::string shown(std::string_view text) {
  constexpr std::size_t kMax = 64;
  return text.size() <= kMax ? fmt::format("\"{}\"", text)
                             : fmt::format("\"{}...\"", text.substr(0, kMax));
}

Expected<std::size_t> parse_limit(std::string_view text) {
  std::size_t limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || limit < 1 ||
      limit > kMaxRunsLimit)
    return invalid_request(fmt::format("limit must be a whole number from 1 to {}, got {}",
                                       kMaxRunsLimit, shown(text)));
  return limit;
}

// The query of GET /runs: room, routine and limit, each at most once.
Expected<RunQuery> parse_runs_query(std::string_view query) {
  RunQuery out;
  out.limit = kDefaultRunsLimit;
  auto pairs = routes::parse_query(query);
  if (!pairs) return pairs.error();
  for (auto& [key, value] : *pairs) {
    if (key == "room" || key == "routine") {
      if (value.empty())
        return invalid_request(fmt::format("{} needs an id, as in ?{}", key,
                                           key == "room" ? "room=nursery" : "routine=bedtime"));
      (key == "room" ? out.room : out.routine) = std::move(value);
    } else if (key == "limit") {
      auto limit = parse_limit(value);
      if (!limit) return limit.error();
      out.limit = *limit;
    } else {
      return invalid_request(fmt::format(
          "unknown query parameter {}: /api/v1/runs takes room, routine and limit", shown(key)));
    }
  }
  return out;
}

Expected<json> parse_body(std::string_view body) {
  return parse_json_text(body, "the request body");
}

ApiReply get_status(HubApi& hub) { return ApiReply{200, to_json(hub.status()), {}}; }

ApiReply get_runs(HubApi& hub, std::string_view query) {
  auto parsed = parse_runs_query(query);
  if (!parsed) return from_error(parsed.error());
  auto runs = hub.runs(*parsed);
  if (!runs) return from_error(runs.error());
  const TimePoint now = hub.status().now;
  json list = json::array();
  for (const auto& run : *runs) list.push_back(to_json(run, now));
  return ApiReply{200, json{{"runs", std::move(list)}}, {}};
}

ApiReply post_routine(HubApi& hub, const std::string& room, std::string_view body) {
  auto parsed = parse_body(body);
  if (!parsed) return from_error(parsed.error());
  auto request = parse_routine_request(*parsed);
  if (!request) return from_error(request.error());
  auto result = hub.routine(room, *request);
  if (!result) return from_error(result.error());
  return ApiReply{200, json{{"routine", to_json(*result)}}, {}};
}

ApiReply post_device(HubApi& hub, const std::string& room, const std::string& device,
                     std::string_view body) {
  auto parsed = parse_body(body);
  if (!parsed) return from_error(parsed.error());
  auto request = parse_device_request(*parsed);
  if (!request) return from_error(request.error());
  request->source = CommandSource::Control;
  auto result = hub.set_device(room, device, *request);
  if (!result) return from_error(result.error());
  return ApiReply{200, to_json(*result), {}};
}

// --- BLE scan (nurseryctl ble scan) ---------------------------------------------

json to_json(const BleScanStatus& scan) {
  static constexpr const char* kStates[] = {"running", "done", "failed"};
  json devices = json::array();
  for (const auto& d : scan.devices)
    devices.push_back(json{
        {"address", d.seen.address},
        {"name", d.seen.name.empty() ? json(nullptr) : json(d.seen.name)},
        {"rssi", d.seen.rssi ? json(*d.seen.rssi) : json(nullptr)},
        {"service_uuids", d.seen.service_uuids},
        {"manufacturer_ids", d.seen.manufacturer_ids},
        {"driver", d.driver.empty() ? json(nullptr) : json(d.driver)},
    });
  return json{{"scan",
               {{"state", kStates[static_cast<int>(scan.state)]},
                {"seconds", scan.duration.count()},
                {"started_at", format_utc(scan.started_at)},
                {"ends_at", format_utc(scan.ends_at)},
                {"error", scan.error.empty() ? json(nullptr) : json(scan.error)},
                {"devices", std::move(devices)}}}};
}

constexpr long kDefaultScanSeconds = 10;

// POST /ble/scan[?seconds=N]: starts a scan (or joins the one running) and
// answers 202 at once; GET /ble/scan then tells how it went.
ApiReply post_ble_scan(HubApi& hub, std::string_view query) {
  long seconds = kDefaultScanSeconds;
  bool seen = false;
  for (auto pair : split(query, '&')) {
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = decode_segment(pair.substr(0, eq), true);
    auto value = decode_segment(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value)
      return from_error(invalid_request(
          fmt::format("the query parameter {} has a broken %-escape", shown(pair))));
    if (*key != "seconds")
      return from_error(invalid_request(
          fmt::format("unknown query parameter {}: /api/v1/ble/scan takes seconds", shown(*key))));
    if (seen) return from_error(invalid_request("the query parameter \"seconds\" is given twice"));
    seen = true;
    auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), seconds);
    if (value->empty() || ec != std::errc{} || end != value->data() + value->size() ||
        seconds < 1 || seconds > 300)
      return from_error(invalid_request(
          fmt::format("seconds must be a whole number from 1 to 300, got {}", shown(*value))));
  }
  auto scan = hub.start_ble_scan(std::chrono::seconds(seconds));
  if (!scan) return from_error(scan.error());
  return ApiReply{202, to_json(*scan), {}};
}

ApiReply get_ble_scan(HubApi& hub, std::string_view query) {
  if (!query.empty())
    return from_error(invalid_request("GET /api/v1/ble/scan takes no query parameters"));
  auto scan = hub.ble_scan();
  if (!scan) return from_error(scan.error());
  return ApiReply{200, to_json(*scan), {}};
}

ApiReply route(HubApi& hub, std::string_view method, std::string_view target,
               std::string_view body) {
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  auto not_found = [&] {
    return api_error(404, "not_found", fmt::format("there is nothing at {}", path));
  };

  if (!path.starts_with("/api/v1/")) return not_found();
  std::vector<std::string> segments;
  for (auto raw : split(path.substr(std::string_view("/api/v1/").size()), '/')) {
    auto decoded = decode_segment(raw);
    if (!decoded || decoded->empty()) return not_found();
    segments.push_back(std::move(*decoded));
  }

  if (segments.size() == 1 && segments[0] == "status") {
    if (method != "GET") return method_not_allowed(method, path, "GET");
    return get_status(hub);
  }
  if (segments.size() == 1 && segments[0] == "runs") {
    if (method != "GET") return method_not_allowed(method, path, "GET");
    return get_runs(hub, query);
  }
  if (segments.size() == 1 && segments[0] == "sleep-log") {
    if (method != "GET" && method != "POST") return method_not_allowed(method, path, "GET, POST");
    if (method == "POST") {
      auto parsed = parse_body(body);
      if (!parsed) return from_error(parsed.error());
      return post_sleep_entry(hub, *parsed);
    }
    auto params = routes::parse_query(query);
    if (!params) return from_error(params.error());
    return get_sleep_log(hub, *params);
  }
  if (segments.size() == 2 && segments[0] == "sleep-log" && segments[1] == "summary") {
    if (method != "GET") return method_not_allowed(method, path, "GET");
    auto params = routes::parse_query(query);
    if (!params) return from_error(params.error());
    return get_sleep_summary(hub, *params);
  }
  if (segments.size() == 3 && segments[0] == "rooms" && segments[2] == "routine") {
    if (method != "POST") return method_not_allowed(method, path, "POST");
    return post_routine(hub, segments[1], body);
  }
  if (segments.size() == 2 && segments[0] == "ble" && segments[1] == "scan") {
    if (method == "POST") return post_ble_scan(hub, query);
    if (method == "GET") return get_ble_scan(hub, query);
    return method_not_allowed(method, path, "GET, POST");
  }
  if (segments.size() == 4 && segments[0] == "rooms" && segments[2] == "devices") {
    if (method != "POST") return method_not_allowed(method, path, "POST");
    return post_device(hub, segments[1], segments[3], body);
  }
  if (auto reply = route_schedules(hub, method, path, segments, query, body)) return *reply;
  return not_found();
}

}  // namespace

ApiReply api_error(int status, std::string code, std::string message) {
  return ApiReply{status, error_json(Error{std::move(code), std::move(message), status}), {}};
}

namespace routes {

ApiReply from_error(const Error& error) { return nursery::from_error(error); }

ApiReply method_not_allowed(std::string_view method, std::string_view path, std::string allow) {
  return nursery::method_not_allowed(method, path, std::move(allow));
}

Expected<nlohmann::json> parse_json_body(std::string_view body) { return parse_body(body); }

std::string shown(std::string_view text) { return nursery::shown(text); }

Expected<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto pair : split(query, '&')) {
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = decode_segment(pair.substr(0, eq), true);
    auto value = decode_segment(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value)
      return invalid_request(
          fmt::format("the query parameter {} has a broken %-escape", nursery::shown(pair)));
    for (const auto& [seen, v] : out)
      if (seen == *key)
        return invalid_request(
            fmt::format("the query parameter {} is given twice", nursery::shown(*key)));
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace routes

ApiReply handle_api_request(HubApi& hub, std::string_view method, std::string_view target,
                            std::string_view body) {
  try {
    return route(hub, method, target, body);
  } catch (const std::exception& e) {
    // The hub promises not to throw; if something does, the loop must not unwind.
    return api_error(500, "internal_error", fmt::format("internal error: {}", e.what()));
  } catch (...) {
    return api_error(500, "internal_error", "internal error");
  }
}

}  // namespace nursery
