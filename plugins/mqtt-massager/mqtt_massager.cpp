// A massager device wired by configuration (an ESPHome or Tasmota device):
// see plugins/mqtt-common/field_device.hpp for what it sends and reads.

#include "mqtt_massager.hpp"

#include "plugins/mqtt-common/field_device.hpp"

namespace nursery::plugins::mqtt_massager {
namespace {

using namespace mqtt_common;

constexpr FieldDeviceKeys kKeys{Capability::Massager, "intensity", "pattern", true};

constexpr auto kOptions = join_options(
    field_device_options("intensity_field", "intensity_scale", "pattern_field", "pattern_values"),
    std::array<config::DriverOptionSpec, 1>{{"session_field", config::OptionType::String}});

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  return validate_field_device(device, kKeys);
}

Capabilities capabilities(const config::DeviceConfig&) { return bit(Capability::Massager); }

constexpr config::DriverSpec kSpec{"mqtt-massager", kOptions, &validate, &capabilities};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment&) {
  FieldDeviceSettings s = read_field_device(config, kKeys);
  MqttCommon common = read_generic_common(config, !s.state_topic.empty());
  return std::unique_ptr<Device>(std::make_unique<FieldDevice>(config, host, std::move(common),
                                                               std::move(s), "mqtt-massager"));
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, nullptr};

}  // namespace nursery::plugins::mqtt_massager
