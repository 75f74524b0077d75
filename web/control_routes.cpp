#include "control_routes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <optional>
#include <vector>

#include "daemon/api_json/api_json.hpp"
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

// A query's keys and values, percent-decoded, each key at most once.
Expected<QueryParams> parse_query_params(std::string_view query) {
  QueryParams params;
  for (auto pair : split(query, '&')) {
    if (pair.empty()) continue;  // "a=1&&b=2", a trailing '&'
    const auto eq = pair.find('=');
    auto key = decode_segment(pair.substr(0, eq), true);
    auto value = decode_segment(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value)
      return invalid_request(
          fmt::format("the query parameter {} has a broken %-escape", shown(pair)));
    if (std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == *key; }))
      return invalid_request(fmt::format("the query parameter {} is given twice", shown(*key)));
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

// The query of GET /runs: room, routine and limit, each at most once.
Expected<RunQuery> parse_runs_query(std::string_view query) {
  RunQuery out;
  out.limit = kDefaultRunsLimit;
  auto params = parse_query_params(query);
  if (!params) return params.error();
  for (auto& [key, value] : *params) {
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
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return Error{"invalid_json", "the request body is empty: expected a JSON object", 400};
  std::string detail;
  try {
    return json::parse(body);
  } catch (const json::exception& e) {
    detail = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    if (auto close = detail.find("] "); detail.starts_with("[json.") && close != std::string::npos)
      detail.erase(0, close + 2);
  }
  return Error{"invalid_json", fmt::format("the request body is not valid JSON: {}", detail), 400};
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
    auto params = parse_query_params(query);
    if (!params) return from_error(params.error());
    return get_sleep_log(hub, *params);
  }
  if (segments.size() == 2 && segments[0] == "sleep-log" && segments[1] == "summary") {
    if (method != "GET") return method_not_allowed(method, path, "GET");
    auto params = parse_query_params(query);
    if (!params) return from_error(params.error());
    return get_sleep_summary(hub, *params);
  }
  if (segments.size() == 3 && segments[0] == "rooms" && segments[2] == "routine") {
    if (method != "POST") return method_not_allowed(method, path, "POST");
    return post_routine(hub, segments[1], body);
  }
  if (segments.size() == 4 && segments[0] == "rooms" && segments[2] == "devices") {
    if (method != "POST") return method_not_allowed(method, path, "POST");
    return post_device(hub, segments[1], segments[3], body);
  }
  return not_found();
}

}  // namespace

ApiReply api_error(int status, std::string code, std::string message) {
  return ApiReply{status, error_json(Error{std::move(code), std::move(message), status}), {}};
}

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
