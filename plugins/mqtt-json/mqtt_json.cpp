// A light in Home Assistant's MQTT JSON schema (an ESPHome light, a Tasmota
// or OpenMQTTGateway device set to it, anything HA's `schema: json` drives):
// commands {"state":"ON","brightness":<0..brightness_scale>,
// "color_temp":<mireds, or kelvin with color_temp_kelvin>,
// "transition":<seconds>} to command_topic; the same JSON back on
// state_topic; availability on availability_topic.

#include "mqtt_json.hpp"

#include "plugins/mqtt-common/field_device.hpp"
#include "plugins/mqtt-common/json_light.hpp"

namespace nursery::plugins::mqtt_json {
namespace {

using namespace mqtt_common;

constexpr auto kOptions =
    join_options(kTopicOptions, std::array<config::DriverOptionSpec, 7>{{
                                    {"brightness_scale", config::OptionType::Integer, false},
                                    {"color_temp", config::OptionType::Bool, false},
                                    {"color_temp_kelvin", config::OptionType::Bool, false},
                                    {"min_kelvin", config::OptionType::Integer, false},
                                    {"max_kelvin", config::OptionType::Integer, false},
                                    {"native_transition", config::OptionType::Bool, false},
                                    kConfirmTimeoutOption,
                                }});

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  Checker check(device);
  check.topic("command_topic");
  check.topic("state_topic");
  check_generic_common(check);
  check.range("brightness_scale", 1, 65535);
  check.range("min_kelvin", kMinColorTemp, kMaxColorTemp);
  check.range("max_kelvin", kMinColorTemp, kMaxColorTemp);
  if (integer_option(device, "min_kelvin", 2000) >= integer_option(device, "max_kelvin", 6535))
    check.error(device.options.count("min_kelvin") ? "min_kelvin" : "max_kelvin",
                "min_kelvin must be below max_kelvin");
  return check.take();
}

Capabilities capabilities(const config::DeviceConfig&) { return bit(Capability::Light); }

constexpr config::DriverSpec kSpec{"mqtt-json", kOptions, &validate, &capabilities};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment&) {
  JsonLightSettings s;
  s.command_topic = string_option(config, "command_topic");
  s.state_topic = string_option(config, "state_topic");
  s.brightness_scale = static_cast<int>(integer_option(config, "brightness_scale", 255));
  s.color_temp = bool_option(config, "color_temp", true);
  s.color_temp_kelvin = bool_option(config, "color_temp_kelvin", false);
  s.min_kelvin = static_cast<int>(integer_option(config, "min_kelvin", 2000));
  s.max_kelvin = static_cast<int>(integer_option(config, "max_kelvin", 6535));
  s.native_transition = bool_option(config, "native_transition", true);
  MqttCommon common = read_generic_common(config, !s.state_topic.empty());
  return std::unique_ptr<Device>(
      std::make_unique<JsonLight>(config, host, std::move(common), std::move(s), "mqtt-json"));
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, nullptr};

}  // namespace nursery::plugins::mqtt_json
