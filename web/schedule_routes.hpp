#pragma once
// The scheduling routes of the control API (issue 9):
//   GET  /api/v1/rooms/{room}/schedules        {"schedules":[...]}
//   PUT  /api/v1/rooms/{room}/schedules        the same shape: replaces the list
//   GET  /api/v1/rooms/{room}/next?from=ISO8601&count=N
//                                              {"triggers":[...]}, count 1..100 (default 5)
//   GET  /api/v1/sun?date=YYYY-MM-DD           {"date","sunrise",...} in UTC, null
//                                              where the event does not happen
// A refused request (4xx, JSON error) changes nothing.
// Thread: the loop thread. Never throws.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control_routes.hpp"

namespace nursery {

inline constexpr std::size_t kDefaultNextCount = 5;

// The reply when `segments` (the decoded path after /api/v1/) is one of the
// routes above; nullopt when it is not, for the caller's 404.
std::optional<ApiReply> route_schedules(HubApi& hub, std::string_view method, std::string_view path,
                                        const std::vector<std::string>& segments,
                                        std::string_view query, std::string_view body);

}  // namespace nursery
