// A sound device wired by configuration (an ESPHome or Tasmota device):
// see plugins/mqtt-common/field_device.hpp for what it sends and reads.

#include "mqtt_sound.hpp"

#include "plugins/mqtt-common/field_device.hpp"

namespace nursery::plugins::mqtt_sound {
namespace {

using namespace mqtt_common;

constexpr FieldDeviceKeys kKeys{Capability::Sound, "volume", "track", false};

constexpr auto kOptions =
    field_device_options("volume_field", "volume_scale", "track_field", "track_values");

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  return validate_field_device(device, kKeys);
}

Capabilities capabilities(const config::DeviceConfig&) { return bit(Capability::Sound); }

constexpr config::DriverSpec kSpec{"mqtt-sound", kOptions, &validate, &capabilities};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment&) {
  FieldDeviceSettings s = read_field_device(config, kKeys);
  MqttCommon common = read_generic_common(config, !s.state_topic.empty());
  return std::unique_ptr<Device>(
      std::make_unique<FieldDevice>(config, host, std::move(common), std::move(s), "mqtt-sound"));
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, nullptr};

}  // namespace nursery::plugins::mqtt_sound
