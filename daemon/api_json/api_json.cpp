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

template <typename T>
json field_json(const T& value) {
  if constexpr (std::is_same_v<T, Level>)
    return value.fraction();
  else
    return value;
}

// Reads one field of the table in config/values.hpp.
std::optional<Error> read_field(const Field& field, const json& value, DeviceValues& out) {
  std::optional<Error> problem;
  std::visit(
      [&](auto member) {
        using T = typename std::remove_cvref_t<decltype(out.*member)>::value_type;
        if constexpr (std::is_same_v<T, bool>) {
          if (value.is_boolean())
            out.*member = value.get<bool>();
          else
            problem = invalid_value(
                fmt::format("{} must be true or false, got {}", field.name, describe(value)));
        } else if constexpr (std::is_same_v<T, Level>) {
          if (!value.is_number()) {
            problem = invalid_value(fmt::format("{} must be a number between 0 and 1, got {}",
                                                field.name, describe(value)));
            return;
          }
          const double d = value.get<double>();
          if (auto why = check_fraction(field.name, d))
            problem = invalid_value(*why);
          else
            out.*member = Level::from_fraction(d);
        } else if constexpr (std::is_same_v<T, int>) {
          const double d = value.is_number() ? value.get<double>() : NAN;
          if (!std::isfinite(d) || d != std::floor(d)) {
            problem = invalid_value(fmt::format("{} must be a whole number of kelvin, got {}",
                                                field.name, describe(value)));
            return;
          }
          constexpr double kFar = 1e12;  // beyond any int, out of range either way
          const long long k = static_cast<long long>(std::clamp(d, -kFar, kFar));
          if (auto why = check_color_temp(k))
            problem = invalid_value(*why);
          else
            out.*member = static_cast<int>(k);
        } else {
          if (!value.is_string()) {
            problem = invalid_value(
                fmt::format("{} must be a string, got {}", field.name, describe(value)));
            return;
          }
          const auto& text = value.get_ref<const std::string&>();
          if (auto why = check_token(field.name, text))
            problem = invalid_value(*why);
          else
            out.*member = text;
        }
      },
      field.member);
  return problem;
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

// The fields of one capability, as {"light":{...}} holds them.
std::optional<Error> read_capability(Capability capability, const json& body, DeviceValues& out) {
  const auto name = role_name(capability);
  if (!body.is_object())
    return invalid_request(fmt::format("{} must be an object of {} values, got {}", name, name,
                                       describe(body)));
  for (const auto& [key, value] : body.items()) {
    const Field* field = find_field(capability, key);
    if (!field) {
      std::string keys;
      for (const Field& f : kFields)
        if (f.capability == capability) keys += (keys.empty() ? "" : ", ") + std::string(f.name);
      return invalid_request(
          fmt::format("unknown key \"{}\" in {} (expected any of {})", key, name, keys));
    }
    if (auto problem = read_field(*field, value, out)) return problem;
  }
  return std::nullopt;
}

}  // namespace

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json capabilities_json(Capabilities capabilities) {
  json out = json::array();
  for (auto c : kAllCapabilities)
    if (has(capabilities, c)) out.push_back(std::string(role_name(c)));
  return out;
}

nlohmann::json values_json(const DeviceValues& values, Capabilities capabilities) {
  int count = 0;
  for (auto c : kAllCapabilities) count += has(capabilities, c) ? 1 : 0;
  json out = json::object();
  for_each_field(values, [&](const Field& field, const auto& value) {
    if (!value) return;
    if (count <= 1)
      out[std::string(field.name)] = field_json(*value);
    else
      out[std::string(role_name(field.capability))][std::string(field.name)] = field_json(*value);
  });
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
  json command = nullptr;
  if (device.command.state != CommandState::None)
    command = json{{"state", std::string(command_state_name(device.command.state))},
                   {"source", std::string(command_source_name(device.command.source))},
                   {"reason", device.command.reason.empty() ? json(nullptr)
                                                            : json(device.command.reason)},
                   {"at", time_or_null(device.command.at)}};
  return json{
      {"id", device.id},
      {"name", device.name},
      {"driver", device.driver},
      {"capabilities", capabilities_json(device.capabilities)},
      {"available", device.available()},
      {"availability", std::string(availability_name(device.availability))},
      {"availability_reason",
       device.availability_reason.empty() ? json(nullptr) : json(device.availability_reason)},
      {"battery", device.battery ? json(*device.battery) : json(nullptr)},
      {"link_quality", device.link_quality ? json(*device.link_quality) : json(nullptr)},
      {"overridden", device.overridden != 0},
      {"held", capabilities_json(device.overridden)},
      {"state", values_json(device.state, device.capabilities)},
      {"asked", values_json(device.asked, device.capabilities)},
      {"command", std::move(command)},
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
        {"next_trigger", room.next_trigger ? json{{"at", format_utc(room.next_trigger->at)},
                                                  {"local", room.next_trigger->local},
                                                  {"routine", room.next_trigger->routine},
                                                  {"schedule", room.next_trigger->schedule},
                                                  {"reason", room.next_trigger->reason}}
                                           : json(nullptr)},
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
      {"store",
       {{"state", status.store_problem.empty() ? "ok" : "degraded"},
        {"problem", status.store_problem.empty() ? json(nullptr) : json(status.store_problem)}}},
  };
}

nlohmann::json to_json(const RunRecord& run, TimePoint now) {
  const TimePoint until = run.ended_at.value_or(now);
  Duration paused{0};
  for (const auto& pause : run.pauses) {
    const TimePoint to = std::min(pause.to.value_or(until), until);
    if (to > pause.from) paused += to - pause.from;
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
      {"requested", values_json(result.requested, result.capabilities)},
      {"applied", values_json(result.applied, result.capabilities)},
      {"clamped", std::move(clamped)},
  };
}

nlohmann::json error_json(const Error& error) {
  return json{{"error", {{"code", error.code}, {"message", error.message}}}};
}

Expected<nlohmann::json> parse_json_text(std::string_view text, std::string_view what) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return Error{"invalid_json", fmt::format("{} is empty: expected a JSON object", what), 400};
  std::string detail;
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    detail = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    if (auto close = detail.find("] "); detail.starts_with("[json.") && close != std::string::npos)
      detail.erase(0, close + 2);
  }
  return Error{"invalid_json", fmt::format("{} is not valid JSON: {}", what, detail), 400};
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

Expected<DeviceRequest> parse_device_request(const nlohmann::json& body) {
  if (!body.is_object())
    return invalid_request(fmt::format(
        "the request body must be a JSON object like {{\"on\":true}}, got {}", describe(body)));
  // Unknown keys first: a misspelt key is the more useful thing to hear about.
  for (const auto& [key, value] : body.items())
    if (key != "on" && key != "transition" && !capability_of_field(key) && !parse_role(key))
      return invalid_request(fmt::format(
          "unknown key \"{}\" (expected any of {}, transition, or an object light, sound or "
          "massager)",
          key, field_names()));

  DeviceRequest request;
  for (const auto& [key, value] : body.items()) {
    std::optional<Error> problem;
    if (key == "on") {
      if (value.is_boolean())
        request.on = value.get<bool>();
      else
        problem = invalid_value(fmt::format("on must be true or false, got {}", describe(value)));
    } else if (key == "transition") {
      problem = read_transition(value, request.transition);
    } else if (auto capability = parse_role(key)) {
      problem = read_capability(*capability, value, request.values);
    } else {
      problem = read_field(*find_field(*capability_of_field(key), key), value, request.values);
    }
    if (problem) return *problem;
  }
  if (request.values.empty() && !request.on)
    return invalid_request(
        fmt::format("nothing to set: give at least one of {}", field_names()));
  return request;
}

}  // namespace nursery
