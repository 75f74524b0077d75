#pragma once
// A sound machine or a massager wired by configuration alone: which topic
// takes commands, which reports state, and what each value is called there
// and how it is written — so an ESPHome or Tasmota speaker or massager needs
// no code. Commands are one JSON object ({"state":"ON","volume":30}) or a
// Tasmota Backlog ("Power ON; Volume 30"); state is a JSON object whose keys
// are found without regard to case, dotted keys reaching into nested objects.
// The mqtt-sound and mqtt-massager drivers are this device.
// Thread: the loop thread. Nothing here throws.

#include <map>
#include <string>

#include "mqtt_common.hpp"

namespace nursery::plugins::mqtt_common {

struct FieldDeviceSettings {
  Capability capability = Capability::Sound;
  std::string command_topic;
  std::string state_topic;  // empty: commands are Done once sent
  bool backlog = false;     // "Key value; Key value" instead of JSON
  // The switch; "true"/"false" as values are sent as JSON booleans.
  std::string on_field = "state";
  std::string on_value = "ON";
  std::string off_value = "OFF";
  // Volume or intensity on the device's 0..scale; empty field: none.
  std::string level_field;
  int level_scale = 100;
  // Track or pattern; with a map, the device's words for the hub's tokens
  // (a value that is an integer is sent as a JSON number). Empty: none.
  std::string token_field;
  std::map<std::string, std::string> token_values;
  // Seconds of fade, sent with a command that has one; empty: the device
  // does not fade by itself (the hub steps levels in software).
  std::string transition_field;
  // Massager: the session's length in seconds, for a device with its own
  // timer (the massage ends even if the hub dies). Empty: none.
  std::string session_field;
};

class FieldDevice : public MqttDevice {
 public:
  FieldDevice(const config::DeviceConfig& config, DeviceHost& host, MqttCommon common,
              FieldDeviceSettings settings, std::string driver);
  std::string_view driver() const override { return driver_; }
  Capabilities capabilities() const override { return bit(settings_.capability); }
  bool native_transition(Capability c) const override {
    return c == settings_.capability && !settings_.transition_field.empty();
  }

  // Public for the drivers' tests.
  std::string command_payload(const DeviceCommand& command) const;
  std::optional<DeviceValues> decode(const nlohmann::json& state, std::string* why) const;

 protected:
  std::vector<Outgoing> encode(const DeviceCommand& command) override;
  DeviceValues expected(const DeviceCommand& command) override;

 private:
  void on_state(const PubSubMessage& message);
  std::optional<bool>& on_of(DeviceValues& v) const { return v.on(settings_.capability); }
  std::optional<Level> DeviceValues::*level_member() const;
  std::optional<std::string> DeviceValues::*token_member() const;

  FieldDeviceSettings settings_;
  std::string driver_;
};

// The config keys of mqtt-sound and mqtt-massager, their checks and their
// reading; `level`/`token` name the capability's fields ("volume",
// "track" or "intensity", "pattern").
struct FieldDeviceKeys {
  Capability capability;
  std::string_view level;  // "volume"
  std::string_view token;  // "track"
  bool session;            // takes session_field
};
// Their keys: the topics, then how fields are written.
constexpr auto field_device_options(std::string_view level_field, std::string_view level_scale,
                                    std::string_view token_field, std::string_view token_values) {
  using config::OptionType;
  return join_options(kTopicOptions, std::array<config::DriverOptionSpec, 10>{{
                                         {"command_format", OptionType::String},
                                         {"on_field", OptionType::String},
                                         {"on_value", OptionType::String},
                                         {"off_value", OptionType::String},
                                         {level_field, OptionType::String},
                                         {level_scale, OptionType::Integer},
                                         {token_field, OptionType::String},
                                         {token_values, OptionType::String},
                                         {"transition_field", OptionType::String},
                                         kConfirmTimeoutOption,
                                     }});
}
std::vector<config::Diagnostic> validate_field_device(const config::DeviceConfig& device,
                                                      const FieldDeviceKeys& keys);
FieldDeviceSettings read_field_device(const config::DeviceConfig& device,
                                      const FieldDeviceKeys& keys);
// availability_topic, payload_available, payload_not_available, confirm_timeout;
// confirm_by_state when there is a state topic.
MqttCommon read_generic_common(const config::DeviceConfig& device, bool has_state_topic);
void check_generic_common(Checker& check);

}  // namespace nursery::plugins::mqtt_common
