#include "registry.hpp"

#include <fmt/format.h>

#include <array>

#ifdef NURSERY_PLUGIN_SIMULATED
#include "simulated/simulated.hpp"
#endif
#ifdef NURSERY_PLUGIN_GATT_MASSAGER
#include "gatt_massager/gatt_massager.hpp"
#endif
#ifdef NURSERY_PLUGIN_HATCH_REST
#include "hatch_rest/hatch_rest.hpp"
#endif
#ifdef NURSERY_PLUGIN_ZIGBEE2MQTT
#include "zigbee2mqtt/zigbee2mqtt.hpp"
#endif
#ifdef NURSERY_PLUGIN_MQTT_JSON
#include "mqtt-json/mqtt_json.hpp"
#endif
#ifdef NURSERY_PLUGIN_TASMOTA
#include "tasmota/tasmota.hpp"
#endif
#ifdef NURSERY_PLUGIN_MQTT_SOUND
#include "mqtt-sound/mqtt_sound.hpp"
#endif
#ifdef NURSERY_PLUGIN_MQTT_MASSAGER
#include "mqtt-massager/mqtt_massager.hpp"
#endif

namespace nursery::plugins {
namespace {

constexpr std::array kPlugins = {
#ifdef NURSERY_PLUGIN_SIMULATED
    &simulated::kDescriptor,
#endif
#ifdef NURSERY_PLUGIN_GATT_MASSAGER
    &gatt_massager::kDescriptor,
#endif
#ifdef NURSERY_PLUGIN_HATCH_REST
    &hatch_rest::kDescriptor,
#endif
#ifdef NURSERY_PLUGIN_ZIGBEE2MQTT
    &zigbee2mqtt::kDescriptor,
#endif
#ifdef NURSERY_PLUGIN_MQTT_JSON
    &mqtt_json::kDescriptor,
#endif
#ifdef NURSERY_PLUGIN_TASMOTA
    &tasmota::kDescriptor,
#endif
#ifdef NURSERY_PLUGIN_MQTT_SOUND
    &mqtt_sound::kDescriptor,
#endif
#ifdef NURSERY_PLUGIN_MQTT_MASSAGER
    &mqtt_massager::kDescriptor,
#endif
};

}  // namespace

std::span<const PluginDescriptor* const> all() { return kPlugins; }

const PluginDescriptor* find(std::string_view driver) {
  for (const PluginDescriptor* p : kPlugins)
    if (p->spec.name == driver) return p;
  return nullptr;
}

std::string_view driver_for(const BleScanResult& seen) {
  for (const PluginDescriptor* p : kPlugins)
    if (p->recognises && p->recognises(seen)) return p->spec.name;
  return {};
}

config::DriverCatalog catalog() {
  return [](std::string_view name) -> const config::DriverSpec* {
    const PluginDescriptor* p = find(name);
    return p ? &p->spec : nullptr;
  };
}

Expected<std::unique_ptr<Device>> create_device(const config::DeviceConfig& config,
                                                DeviceHost& host,
                                                const PluginEnvironment& environment) {
  const PluginDescriptor* p = find(config.driver);
  if (!p)
    return Error{"unknown_driver",
                 fmt::format("{}: device \"{}\" uses driver \"{}\", which this build lacks",
                             config.where.to_string(), config.id, config.driver),
                 500};
  return p->create(config, host, environment);
}

}  // namespace nursery::plugins
