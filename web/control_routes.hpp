#pragma once
// The routes of the control API (/api/v1/...), apart from any transport, so
// that the UNIX-socket server here and the web server later answer the same
// way. A request is validated in full before the hub is called: a refused
// request never changes state.
// Thread: the loop thread (it calls the HubApi). Never throws.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/hub_api.hpp"

namespace nursery {

// The largest request body the control API reads; a longer one is answered 413.
inline constexpr std::size_t kMaxRequestBody = 16 * 1024;
inline constexpr std::size_t kDefaultRunsLimit = 50;
inline constexpr std::size_t kMaxRunsLimit = 1000;

struct ApiReply {
  int status = 200;
  nlohmann::json body;
  std::string allow;  // the methods a known path takes, for a 405
  // A body that is not JSON (the sleep log as CSV): sent as it is, with
  // this content type, in place of `body`.
  std::string content_type{};
  std::string text{};
};

// `target` is the request target as sent ("/api/v1/runs?room=nursery&limit=5").
// GET /api/v1/runs takes `room`, `routine` (exact ids, percent-decoded, '+'
// a space) and `limit` (1..kMaxRunsLimit), each at most once; any other key
// is a 400 naming it, and the hub says 404 for a room or routine it lacks.
ApiReply handle_api_request(HubApi& hub, std::string_view method, std::string_view target,
                            std::string_view body);

// An error reply in the API's shape, for errors found by the transport
// (a body too large, a request that is not HTTP).
ApiReply api_error(int status, std::string code, std::string message);

// The rules above, for the route files of other parts (schedule_routes.cpp),
// so that every route answers the same way.
namespace routes {
ApiReply from_error(const Error& error);
ApiReply method_not_allowed(std::string_view method, std::string_view path, std::string allow);
// A request body that must be JSON: "invalid_json" (400) when empty or broken.
Expected<nlohmann::json> parse_json_body(std::string_view body);
// The key=value pairs of a query, percent-decoded ('+' a space), in order;
// a broken escape or a key given twice is "invalid_request" (400).
Expected<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);
// A client's text quoted for a message, cut to a recognisable length.
std::string shown(std::string_view text);
}  // namespace routes

}  // namespace nursery
