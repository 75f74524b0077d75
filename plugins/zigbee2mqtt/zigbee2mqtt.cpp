// A Zigbee light behind Zigbee2MQTT. Commands go to
// <base_topic>/<friendly_name>/set as {"state":"ON","brightness":0..254,
// "color_temp":<mireds>,"transition":<seconds>}; its state comes from
// <base_topic>/<friendly_name>; availability from
// <base_topic>/<friendly_name>/availability, "online"/"offline" (1.x) or
// {"state":"online"} (2.x). On every connect and when the light comes back
// the driver asks <…>/get {"state":""}, so the hub learns what it has.

#include "zigbee2mqtt.hpp"

#include "plugins/mqtt-common/json_light.hpp"

namespace nursery::plugins::zigbee2mqtt {
namespace {

using namespace mqtt_common;

constexpr config::DriverOptionSpec kOptions[] = {
    {"friendly_name", config::OptionType::String, true},
    {"base_topic", config::OptionType::String, false},
    {"color_temp", config::OptionType::Bool, false},
    {"min_mireds", config::OptionType::Integer, false},
    {"max_mireds", config::OptionType::Integer, false},
    {"native_transition", config::OptionType::Bool, false},
    kConfirmTimeoutOption,
};

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  Checker check(device);
  check.topic("friendly_name");
  check.topic_part("base_topic", false);
  check.range("min_mireds", 50, 1000);
  check.range("max_mireds", 50, 1000);
  if (integer_option(device, "min_mireds", 150) >= integer_option(device, "max_mireds", 500))
    check.error(device.options.count("min_mireds") ? "min_mireds" : "max_mireds",
                "min_mireds must be below max_mireds");
  return check.take();
}

Capabilities capabilities(const config::DeviceConfig&) { return bit(Capability::Light); }

constexpr config::DriverSpec kSpec{"zigbee2mqtt", kOptions, &validate, &capabilities};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment&) {
  const std::string device_topic = join_topic(string_option(config, "base_topic", "zigbee2mqtt"),
                                              string_option(config, "friendly_name"));
  MqttCommon common = read_common(config);
  common.availability_topic = join_topic(device_topic, "availability");
  common.speaker = "Zigbee2MQTT";
  JsonLightSettings s;
  s.command_topic = join_topic(device_topic, "set");
  s.state_topic = device_topic;
  s.get_topic = join_topic(device_topic, "get");
  s.get_payload = R"({"state":""})";
  s.brightness_scale = 254;
  s.color_temp = bool_option(config, "color_temp", true);
  s.color_temp_kelvin = false;
  // Mireds the other way round: the most mireds is the warmest kelvin.
  s.min_kelvin = mireds_to_kelvin(static_cast<int>(integer_option(config, "max_mireds", 500)));
  s.max_kelvin = mireds_to_kelvin(static_cast<int>(integer_option(config, "min_mireds", 150)));
  s.native_transition = bool_option(config, "native_transition", true);
  return std::unique_ptr<Device>(
      std::make_unique<JsonLight>(config, host, std::move(common), std::move(s), "zigbee2mqtt"));
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, nullptr};

}  // namespace nursery::plugins::zigbee2mqtt
