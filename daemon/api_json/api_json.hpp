#pragma once
// The Hub API's types as JSON, shared by every surface (the control API, the
// web panel, MQTT) so that what is accepted, what is refused and how it is
// worded are the same everywhere. Parsing validates fully and builds
// nothing partial: a refused request is an Error and the caller must not
// touch the hub.
// Pure functions: any thread; none of them throws (a json value of the wrong
// shape is an Error, never a nlohmann exception).

#include <nlohmann/json.hpp>

#include "daemon/expected.hpp"
#include "daemon/hub_api.hpp"

namespace nursery {

// {"hub":{"name","time_zone","version","now"},"rooms":[{"id","name","night",
//   "devices":[…],"routine":{…}}]}. Times are ISO 8601 UTC strings or null.
nlohmann::json to_json(const HubStatus& status);
// {"state":"idle|running|paused","routine"(null when idle),"step_index",
//  "step_count","started_at","ends_at"}
nlohmann::json to_json(const RoutineStatus& routine);
// {"id","name","driver","capabilities":["light",…],"available","availability",
//  "availability_reason","battery","link_quality","overridden","held":[…],
//  "state":{…},"asked":{…},"command":{"state","source","reason","at"}}
nlohmann::json to_json(const DeviceStatus& device);
// {"id","room","routine","started_at","ended_at","outcome","paused_ms","skipped_ms"};
// ended_at and outcome are null while the run is open; paused_ms counts a
// pause still open up to the run's end (or to now for an open run).
nlohmann::json to_json(const RunRecord& run, TimePoint now);
// {"room","device","requested":{…},"applied":{…},
//  "clamped":[{"field","requested","applied","reason"}]}
nlohmann::json to_json(const CommandResult& result);
// The values present, shaped for a device of these capabilities: flat for a
// device with one capability ({"on":true,"brightness":0.1}), one object per
// capability for a device with several ({"light":{"on":false},
// "sound":{"on":true,"volume":0.3}}).
nlohmann::json values_json(const DeviceValues& values, Capabilities capabilities);
// {"error":{"code","message"}}
nlohmann::json error_json(const Error& error);

// The capability names of a set, in a fixed order ("light", "sound", "massager").
nlohmann::json capabilities_json(Capabilities capabilities);

// The longest transition a command may ask for.
inline constexpr Duration kMaxTransition = std::chrono::hours(1);

// {"action":"start|stop|pause|resume|skip","routine":"name"(start only)}.
// Errors: "invalid_request" (400) naming the field.
Expected<RoutineRequest> parse_routine_request(const nlohmann::json& body);

// An object with any of: on (bool: every capability of the device),
// brightness, volume, intensity (0..1), color_temp (whole kelvin), track,
// pattern (tokens), transition (seconds, 0..3600); and objects "light",
// "sound", "massager" holding that capability's fields, its "on" included.
// Errors: "invalid_value" (400) for a value of the wrong type or out of
// range, "invalid_request" (400) for an unknown key, a body that is not an
// object, or a command that sets nothing.
Expected<DeviceRequest> parse_device_request(const nlohmann::json& body);

// Parses a request body or an MQTT payload as JSON. Errors: "invalid_json"
// (400) for an empty or malformed text, saying where ("`what` is not valid
// JSON: …"); `what` is "the request body", "the payload" and the like.
Expected<nlohmann::json> parse_json_text(std::string_view text, std::string_view what);

// Dumps without ever throwing: invalid UTF-8 (say, an id taken from a URL and
// echoed in a message) is replaced rather than raising.
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace nursery
