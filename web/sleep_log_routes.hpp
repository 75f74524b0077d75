#pragma once
// The sleep log's routes, called by control_routes.cpp once the path and
// method are known and the query is decoded:
//   POST /api/v1/sleep-log {"kind","at","note","room"}  -> 201, the entry as stored
//   GET  /api/v1/sleep-log?from=&to=&room=&format=json|csv
//   GET  /api/v1/sleep-log/summary?days=14&room=
// A refused request is a 4xx with the API's JSON error, and nothing is stored.
// Thread: the loop thread (they call the HubApi). Never throws.

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "daemon/hub_api.hpp"
#include "web/control_routes.hpp"

namespace nursery {

// A query's keys and values, percent-decoded, each key once, in order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// GET /sleep-log spans 14 days before `to` unless `from` is given.
inline constexpr int kDefaultSleepLogDays = 14;
inline constexpr int kMaxSummaryDays = 365;

ApiReply post_sleep_entry(HubApi& hub, const nlohmann::json& body);
ApiReply get_sleep_log(HubApi& hub, const QueryParams& query);
ApiReply get_sleep_summary(HubApi& hub, const QueryParams& query);

}  // namespace nursery
