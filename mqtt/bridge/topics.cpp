#include "mqtt/bridge/topics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "daemon/api_json/api_json.hpp"

namespace nursery::mqtt::bridge {
namespace {

using json = nlohmann::json;

std::vector<std::string_view> levels(std::string_view topic) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto slash = topic.find('/', start);
    out.push_back(topic.substr(start, slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

Error unknown_topic(std::string_view topic, const Topics& topics) {
  return Error{"unknown_topic",
               fmt::format("{} is not a command topic of this hub: commands go to {}/ROOM/routine/"
                           "set, {}/ROOM/DEVICE/set or {}/ROOM/DEVICE/light/set",
                           topic, topics.base, topics.base, topics.base),
               404};
}

Error invalid_request(std::string message) {
  return Error{"invalid_request", std::move(message), 400};
}

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace

Expected<CommandTopic> parse_command_topic(const Topics& topics, std::string_view topic) {
  const std::string prefix = topics.base + "/";
  if (!topic.starts_with(prefix)) return unknown_topic(topic, topics);
  const auto rest = levels(topic.substr(prefix.size()));
  if (rest.size() == 3 && rest[1] == "routine" && rest[2] == "set")
    return CommandTopic{CommandKind::Routine, std::string(rest[0]), {}};
  if (rest.size() == 3 && rest[2] == "set")
    return CommandTopic{CommandKind::Device, std::string(rest[0]), std::string(rest[1])};
  if (rest.size() == 4 && rest[2] == "light" && rest[3] == "set")
    return CommandTopic{CommandKind::Light, std::string(rest[0]), std::string(rest[1])};
  return unknown_topic(topic, topics);
}

Expected<RoutineRequest> parse_routine_payload(std::string_view payload) {
  const std::string text = trimmed(payload);
  Expected<RoutineRequest> request = invalid_request("");
  if (!text.empty() && text.front() == '{') {
    auto body = parse_json_text(text, "the payload");
    if (!body) return body.error();
    request = parse_routine_request(*body);
  } else {
    std::string word = text;
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto action = parse_routine_action(word);
    if (!action)
      return invalid_request(fmt::format(
          "the payload must be START, STOP, PAUSE, RESUME or SKIP (any case) or a JSON object "
          "like {{\"action\":\"start\",\"routine\":\"bedtime\"}}, got \"{}\"",
          text.substr(0, 64)));
    request = RoutineRequest{*action, std::nullopt, CommandSource::Mqtt};
  }
  if (request) request->source = CommandSource::Mqtt;
  return request;
}

Expected<DeviceRequest> parse_device_payload(std::string_view payload) {
  auto body = parse_json_text(payload, "the payload");
  if (!body) return body.error();
  auto request = parse_device_request(*body);
  if (request) request->source = CommandSource::Mqtt;
  return request;
}

Expected<DeviceRequest> parse_light_payload(std::string_view payload) {
  auto body = parse_json_text(payload, "the payload");
  if (!body) return body.error();
  if (!body->is_object())
    return invalid_request(
        "the payload must be a JSON object like {\"state\":\"ON\",\"brightness\":500}");
  json light = json::object();
  json command = json::object();
  for (const auto& [key, value] : body->items()) {
    if (key == "state") {
      if (!value.is_string() || (value != "ON" && value != "OFF"))
        return invalid_request(
            fmt::format("state must be \"ON\" or \"OFF\", got {}", dump_json(value)));
      light["on"] = value == "ON";
    } else if (key == "brightness") {
      if (!value.is_number())
        return Error{"invalid_value",
                     fmt::format("brightness must be a number from 0 to {}, got {}",
                                 kLightBrightnessScale, dump_json(value)),
                     400};
      const double b = value.get<double>();
      if (!(b >= 0 && b <= kLightBrightnessScale))
        return Error{"invalid_value",
                     fmt::format("brightness must be from 0 to {}, got {}", kLightBrightnessScale,
                                 dump_json(value)),
                     400};
      light["brightness"] = b / kLightBrightnessScale;
    } else if (key == "color_temp") {
      light["color_temp"] = value;  // kelvin (color_temp_kelvin: true): checked by the parser
    } else if (key == "transition") {
      command["transition"] = value;
    } else {
      return invalid_request(fmt::format(
          "unknown key \"{}\" (the hub's lights take state, brightness, color_temp in kelvin and "
          "transition)",
          key));
    }
  }
  if (!light.empty()) command["light"] = std::move(light);
  auto request = parse_device_request(command);
  if (request) request->source = CommandSource::Mqtt;
  return request;
}

nlohmann::json light_state_json(const DeviceValues& observed) {
  return json{
      {"state", observed.light_on ? json(*observed.light_on ? "ON" : "OFF") : json(nullptr)},
      {"brightness", observed.brightness ? json(observed.brightness->permille()) : json(nullptr)},
      {"color_mode", "color_temp"},
      {"color_temp", observed.color_temp ? json(*observed.color_temp) : json(nullptr)},
  };
}

std::string error_payload(std::string_view topic, const Error& error) {
  return dump_json(
      json{{"topic", std::string(topic)}, {"code", error.code}, {"message", error.message}});
}

}  // namespace nursery::mqtt::bridge
