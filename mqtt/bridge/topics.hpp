#pragma once
// The hub's topic names and what their payloads mean: pure functions, so
// that the bridge's decisions can be tested without a broker. Payload
// parsing ends in the control API's own parsers (daemon/api_json): what the
// control socket refuses, MQTT refuses with the same code and words.
// Thread: any. Nothing here throws.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/expected.hpp"
#include "daemon/hub_api.hpp"

namespace nursery::mqtt::bridge {

// Every topic of one hub, under its base topic.
struct Topics {
  std::string base;

  std::string status() const { return base + "/status"; }
  std::string error() const { return base + "/error"; }
  std::string routine(std::string_view room) const { return join(room, "routine"); }
  std::string routine_set(std::string_view room) const { return join(room, "routine/set"); }
  std::string device(std::string_view room, std::string_view device) const {
    return join(room, device);
  }
  std::string device_set(std::string_view room, std::string_view d) const {
    return join(room, d) + "/set";
  }
  std::string device_result(std::string_view room, std::string_view d) const {
    return join(room, d) + "/result";
  }
  // A light's state and commands in Home Assistant's JSON light schema.
  std::string light(std::string_view room, std::string_view d) const {
    return join(room, d) + "/light";
  }
  std::string light_set(std::string_view room, std::string_view d) const {
    return join(room, d) + "/light/set";
  }
  // The filters that catch every command topic, and the near misses
  // (a level too few or too many) so that they can be answered.
  std::string commands_filter() const { return base + "/+/+/set"; }
  std::string light_commands_filter() const { return base + "/+/+/light/set"; }
  std::string near_miss_filter() const { return base + "/+/set"; }

 private:
  std::string join(std::string_view a, std::string_view b) const {
    std::string t = base;
    t += '/';
    t += a;
    t += '/';
    t += b;
    return t;
  }
};

enum class CommandKind { Routine, Device, Light };

struct CommandTopic {
  CommandKind kind = CommandKind::Device;
  std::string room;
  std::string device;  // empty for a routine command
};

// What a topic under the base asks for. Error "unknown_topic" (404) for a
// topic that is no command topic of this hub.
Expected<CommandTopic> parse_command_topic(const Topics& topics, std::string_view topic);

// <base>/<room>/routine/set: the control API's JSON ({"action":"start",
// "routine":"bedtime"}) or one plain word, START, STOP, PAUSE, RESUME or
// SKIP in any case, surrounding white space allowed. Source: Mqtt.
Expected<RoutineRequest> parse_routine_payload(std::string_view payload);

// <base>/<room>/<device>/set: the control API's device command JSON.
Expected<DeviceRequest> parse_device_payload(std::string_view payload);

// <base>/<room>/<device>/light/set: Home Assistant's JSON light command,
// {"state":"ON"|"OFF","brightness":0..1000,"color_temp":KELVIN,
// "transition":SECONDS}, translated into the control API's command and
// parsed by the same parser (so its ranges and words apply). Anything else
// HA can send (flash, effect, colours) is refused: the hub cannot do it.
Expected<DeviceRequest> parse_light_payload(std::string_view payload);

// Home Assistant's JSON light state for a device's observed light:
// {"state":"ON"|"OFF"|null,"brightness":0..1000|null,"color_mode":"color_temp",
//  "color_temp":KELVIN|null}.
nlohmann::json light_state_json(const DeviceValues& observed);
// The brightness scale the light entity is given (permille, like Level).
inline constexpr int kLightBrightnessScale = 1000;

// <base>/error: {"topic","code","message"}.
std::string error_payload(std::string_view topic, const Error& error);

}  // namespace nursery::mqtt::bridge
