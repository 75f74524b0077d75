#include "api_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string_view>

namespace nursery {
namespace {

using nlohmann::json;

json time_or_null(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return format_utc(*t);
}

Error invalid_request(std::string message) {
  return Error{"invalid_request", std::move(message), 400};
}

Error invalid_value(std::string message) { return Error{"invalid_value", std::move(message), 400}; }

// A short rendering of a value the client sent, for messages.
std::string describe(const json& value) {
  std::string text = dump_json(value);
  constexpr std::size_t kMax = 40;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

constexpr std::string_view kDeviceKeys[] = {"on",    "brightness", "color_temp", "volume",
                                            "track", "intensity",  "pattern",    "transition"};

bool is_device_key(std::string_view key) {
  for (auto k : kDeviceKeys)
    if (k == key) return true;
  return false;
}

std::string device_keys_list() {
  std::string out;
  for (auto k : kDeviceKeys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

std::optional<Error> read_fraction(std::string_view key, const json& value,
                                   std::optional<double>& out) {
  if (!value.is_number())
    return invalid_value(
        fmt::format("{} must be a number between 0 and 1, got {}", key, describe(value)));
  double d = value.get<double>();
  if (auto problem = check_fraction(key, d)) return invalid_value(*problem);
  out = d;
  return std::nullopt;
}

// A track or pattern: the same alphabet and length as in the config.
std::optional<Error> read_name(std::string_view key, const json& value,
                               std::optional<std::string>& out) {
  if (!value.is_string())
    return invalid_value(fmt::format("{} must be a string, got {}", key, describe(value)));
  if (auto problem = check_token(key, value.get_ref<const std::string&>()))
    return invalid_value(*problem);
  out = value.get<std::string>();
  return std::nullopt;
}

std::optional<Error> read_color_temp(const json& value, std::optional<int>& out) {
  if (!value.is_number())
    return invalid_value(
        fmt::format("color_temp must be a whole number of kelvin, got {}", describe(value)));
  double d = value.get<double>();
  if (!std::isfinite(d) || d != std::floor(d))
    return invalid_value(
        fmt::format("color_temp must be a whole number of kelvin, got {}", describe(value)));
  // Beyond this an int cannot hold it; it is out of range either way.
  constexpr double kFar = 1e9;
  if (d < -kFar || d > kFar)
    return invalid_value(fmt::format("color_temp must be between {} and {} kelvin, got {}",
                                     kMinColorTemp, kMaxColorTemp, describe(value)));
  int kelvin = static_cast<int>(d);
  if (auto problem = check_color_temp(kelvin)) return invalid_value(*problem);
  out = kelvin;
  return std::nullopt;
}

std::optional<Error> read_transition(const json& value, Duration& out) {
  const double max_seconds = std::chrono::duration<double>(kMaxTransition).count();
  auto message = [&] {
    return fmt::format("transition must be a number of seconds between 0 and {}, got {}",
                       max_seconds, describe(value));
  };
  if (!value.is_number()) return invalid_value(message());
  double seconds = value.get<double>();
  if (!std::isfinite(seconds) || seconds < 0.0 || seconds > max_seconds)
    return invalid_value(message());
  out = Duration(std::llround(seconds * 1000.0));
  return std::nullopt;
}

}  // namespace

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json capabilities_json(Capabilities capabilities) {
  json out = json::array();
  for (auto c : {Capability::Light, Capability::Sound, Capability::Massager})
    if (has(capabilities, c)) out.push_back(std::string(role_name(c)));
  return out;
}

nlohmann::json to_json(const DeviceValues& values) {
  json out = json::object();
  if (values.on) out["on"] = *values.on;
  if (values.brightness) out["brightness"] = *values.brightness;
  if (values.color_temp) out["color_temp"] = *values.color_temp;
  if (values.volume) out["volume"] = *values.volume;
  if (values.track) out["track"] = *values.track;
  if (values.intensity) out["intensity"] = *values.intensity;
  if (values.pattern) out["pattern"] = *values.pattern;
  return out;
}

nlohmann::json to_json(const RoutineStatus& routine) {
  return json{
      {"state", std::string(routine_state_name(routine.state))},
      {"routine", routine.state == RoutineState::Idle || routine.routine.empty()
                      ? json(nullptr)
                      : json(routine.routine)},
      {"step_index", routine.step_index},
      {"step_count", routine.step_count},
      {"started_at", time_or_null(routine.started_at)},
      {"ends_at", time_or_null(routine.ends_at)},
  };
}

nlohmann::json to_json(const DeviceStatus& device) {
  return json{
      {"id", device.id},
      {"name", device.name},
      {"driver", device.driver},
      {"capabilities", capabilities_json(device.capabilities)},
      {"available", device.available},
      {"overridden", device.overridden},
      {"state", to_json(device.state)},
  };
}

nlohmann::json to_json(const HubStatus& status) {
  json rooms = json::array();
  for (const auto& room : status.rooms) {
    json devices = json::array();
    for (const auto& device : room.devices) devices.push_back(to_json(device));
    rooms.push_back(json{
        {"id", room.id},
        {"name", room.name},
        {"night", room.night},
        {"devices", std::move(devices)},
        {"routine", to_json(room.routine)},
    });
  }
  return json{
      {"hub",
       {
           {"name", status.name},
           {"time_zone", status.time_zone},
           {"version", status.version},
           {"now", format_utc(status.now)},
       }},
      {"rooms", std::move(rooms)},
  };
}

nlohmann::json to_json(const RunRecord& run, std::optional<TimePoint> now) {
  // A pause still open counts up to the run's end, or to now while the run
  // goes on; without `now` an open run's open pause counts from nothing.
  const std::optional<TimePoint> until = run.ended_at ? run.ended_at : now;
  Duration paused{0};
  for (const auto& pause : run.pauses) {
    const std::optional<TimePoint> to = pause.to ? pause.to : until;
    if (to && *to > pause.from) paused += *to - pause.from;
  }
  return json{
      {"id", run.id},
      {"room", run.room},
      {"routine", run.routine},
      {"started_at", format_utc(run.started_at)},
      {"ended_at", time_or_null(run.ended_at)},
      {"outcome", run.outcome ? json(std::string(outcome_name(*run.outcome))) : json(nullptr)},
      {"paused_ms", paused.count()},
      {"skipped_ms", run.skipped.count()},
  };
}

nlohmann::json to_json(const CommandResult& result) {
  json clamped = json::array();
  for (const auto& clamp : result.clamps)
    clamped.push_back(json{
        {"field", clamp.field},
        {"requested", clamp.requested},
        {"applied", clamp.applied},
        {"reason", clamp.reason},
    });
  return json{
      {"room", result.room},
      {"device", result.device},
      {"requested", to_json(result.requested)},
      {"applied", to_json(result.applied)},
      {"clamped", std::move(clamped)},
  };
}

nlohmann::json error_json(const Error& error) {
  return json{{"error", {{"code", error.code}, {"message", error.message}}}};
}

Expected<RoutineRequest> parse_routine_request(const nlohmann::json& body) {
  if (!body.is_object())
    return invalid_request(
        fmt::format("the request body must be a JSON object like {{\"action\":\"start\"}}, got {}",
                    describe(body)));
  for (const auto& [key, value] : body.items())
    if (key != "action" && key != "routine")
      return invalid_request(
          fmt::format("unknown key \"{}\" (expected \"action\" and, to start, \"routine\")", key));

  auto action_it = body.find("action");
  if (action_it == body.end())
    return invalid_request("action is required: one of start, stop, pause, resume, skip");
  if (!action_it->is_string())
    return invalid_request(
        fmt::format("action must be a string: one of start, stop, pause, resume, skip; got {}",
                    describe(*action_it)));
  auto action = parse_routine_action(action_it->get_ref<const std::string&>());
  if (!action)
    return invalid_request(fmt::format(
        "action must be one of start, stop, pause, resume, skip; got {}", describe(*action_it)));

  RoutineRequest request;
  request.action = *action;
  if (auto routine_it = body.find("routine"); routine_it != body.end()) {
    if (*action != RoutineAction::Start)
      return invalid_request(
          fmt::format("routine can only be given with action \"start\", not \"{}\"",
                      routine_action_name(*action)));
    if (!routine_it->is_string() || routine_it->get_ref<const std::string&>().empty())
      return invalid_request(fmt::format(
          "routine must be a non-empty string (a routine name), got {}", describe(*routine_it)));
    request.routine = routine_it->get<std::string>();
  }
  return request;
}

Expected<DeviceCommand> parse_device_command(const nlohmann::json& body) {
  if (!body.is_object())
    return invalid_request(fmt::format(
        "the request body must be a JSON object like {{\"on\":true}}, got {}", describe(body)));
  // Unknown keys first: a misspelt key is the more useful thing to hear about.
  for (const auto& [key, value] : body.items())
    if (!is_device_key(key))
      return invalid_request(
          fmt::format("unknown key \"{}\" (expected any of {})", key, device_keys_list()));

  DeviceCommand command;
  DeviceValues& v = command.values;
  for (const auto& [key, value] : body.items()) {
    std::optional<Error> problem;
    if (key == "on") {
      if (value.is_boolean())
        v.on = value.get<bool>();
      else
        problem = invalid_value(fmt::format("on must be true or false, got {}", describe(value)));
    } else if (key == "brightness") {
      problem = read_fraction(key, value, v.brightness);
    } else if (key == "volume") {
      problem = read_fraction(key, value, v.volume);
    } else if (key == "intensity") {
      problem = read_fraction(key, value, v.intensity);
    } else if (key == "color_temp") {
      problem = read_color_temp(value, v.color_temp);
    } else if (key == "track") {
      problem = read_name(key, value, v.track);
    } else if (key == "pattern") {
      problem = read_name(key, value, v.pattern);
    } else if (key == "transition") {
      problem = read_transition(value, command.transition);
    }
    if (problem) return *problem;
  }
  if (v.empty())
    return invalid_request(
        fmt::format("nothing to set: give at least one of on, brightness, color_temp, volume, "
                    "track, intensity, pattern"));
  return command;
}

}  // namespace nursery
