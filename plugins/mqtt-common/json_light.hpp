#pragma once
// A light that takes and reports one JSON object: Home Assistant's MQTT
// JSON schema ({"state":"ON","brightness":128,"color_temp":370,
// "transition":2}), which Zigbee2MQTT also speaks (brightness 0..254,
// color_temp in mireds). The zigbee2mqtt and mqtt-json drivers are this
// light with their own topics and scales.
// Thread: the loop thread. Nothing here throws.

#include <string>

#include "mqtt_common.hpp"

namespace nursery::plugins::mqtt_common {

struct JsonLightSettings {
  std::string command_topic;
  std::string state_topic;  // empty: no state, commands are Done once sent
  // Asked on every (re)connect and when the device comes back: Zigbee2MQTT's
  // <base>/<name>/get with {"state":""}. Empty: nothing to ask.
  std::string get_topic;
  std::string get_payload;
  int brightness_scale = 255;
  bool color_temp = true;          // the light has a colour temperature
  bool color_temp_kelvin = false;  // false: color_temp is in mireds
  int min_kelvin = 2000;           // what the light can do; commands are clamped to it
  int max_kelvin = 6535;
  bool native_transition = true;  // sends "transition" (seconds)
};

class JsonLight : public MqttDevice {
 public:
  JsonLight(const config::DeviceConfig& config, DeviceHost& host, MqttCommon common,
            JsonLightSettings settings, std::string driver);
  std::string_view driver() const override { return driver_; }
  Capabilities capabilities() const override { return bit(Capability::Light); }
  bool native_transition(Capability c) const override {
    return c == Capability::Light && settings_.native_transition;
  }

  // The JSON for `command`, and what a state payload says (nullopt with the
  // reason when it is not one). Public for the drivers' tests.
  nlohmann::json command_json(const DeviceCommand& command) const;
  struct Decoded {
    DeviceValues values;
    std::optional<int> link_quality;  // percent
    std::optional<int> battery;
  };
  std::optional<Decoded> decode(const nlohmann::json& state, std::string* why) const;

 protected:
  std::vector<Outgoing> encode(const DeviceCommand& command) override;
  DeviceValues expected(const DeviceCommand& command) override;
  void on_link_up() override;

 private:
  void on_state(const PubSubMessage& message);
  int color_value(int kelvin) const;  // in the light's unit, clamped to its range
  int kelvin_of(int value) const;

  JsonLightSettings settings_;
  std::string driver_;
};

}  // namespace nursery::plugins::mqtt_common
