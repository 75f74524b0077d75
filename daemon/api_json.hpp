#pragma once
// The Hub API's types as JSON, shared by every surface (the control API now,
// MQTT later) so that what is accepted, what is refused and how it is worded
// are the same everywhere. Parsing validates fully and builds nothing partial:
// a refused request is an Error and the caller must not touch the hub.
// Pure functions: any thread; none of them throws (a json value of the wrong
// shape is an Error, never a nlohmann exception).

#include <nlohmann/json.hpp>

#include "expected.hpp"
#include "hub_api.hpp"

namespace nursery {

// {"hub":{"name","time_zone","version","now"},"rooms":[{"id","name","night",
//   "devices":[…],"routine":{…}}]}. Times are ISO 8601 UTC strings or null.
nlohmann::json to_json(const HubStatus& status);
// {"state":"idle|running|paused","routine"(null when idle),"step_index",
//  "step_count","started_at","ends_at"}
nlohmann::json to_json(const RoutineStatus& routine);
// {"id","name","driver","capabilities":["light",…],"available","overridden","state":{…}}
nlohmann::json to_json(const DeviceStatus& device);
// {"id","room","routine","started_at","ended_at","outcome","paused_ms","skipped_ms"};
// ended_at and outcome are null while the run is open. paused_ms counts every
// pause, one still open included: up to ended_at for a run that has ended
// (stopped while paused), up to `now` for an open run (give the hub's now;
// without it the open part of an open run's pause counts 0).
nlohmann::json to_json(const RunRecord& run, std::optional<TimePoint> now = std::nullopt);
// {"room","device","requested":{…},"applied":{…},
//  "clamped":[{"field","requested","applied","reason"}]}
nlohmann::json to_json(const CommandResult& result);
// Only the values present: {"on":true,"brightness":0.1,…}.
nlohmann::json to_json(const DeviceValues& values);
// {"error":{"code","message"}}
nlohmann::json error_json(const Error& error);

// The capability names of a set, in a fixed order ("light", "sound", "massager").
nlohmann::json capabilities_json(Capabilities capabilities);

// The longest transition a command may ask for.
inline constexpr Duration kMaxTransition = std::chrono::hours(1);

// {"action":"start|stop|pause|resume|skip","routine":"name"(start only)}.
// Errors: "invalid_request" (400) naming the field.
Expected<RoutineRequest> parse_routine_request(const nlohmann::json& body);

// An object with any of: on (bool), brightness, volume, intensity (0..1),
// color_temp (whole kelvin), track, pattern (short tokens), transition
// (seconds, 0..3600). track and pattern follow check_token (config/values.hpp):
// 1 to 32 of a-z, 0-9, '-' and '_'. Errors: "invalid_value" (400) for a value of the wrong
// type or out of range, "invalid_request" (400) for an unknown key, a body
// that is not an object, or a command that sets nothing.
Expected<DeviceCommand> parse_device_command(const nlohmann::json& body);

// Dumps without ever throwing: invalid UTF-8 (say, an id taken from a URL and
// echoed in a message) is replaced rather than raising.
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace nursery
