#pragma once
// The compile-time list of device drivers. A plugin is a constant descriptor:
// its config spec (checked by the loader) and a factory. Each plugin has a
// CMake option (NURSERY_PLUGIN_<NAME>); a plugin that is built out is simply
// not listed, so a config naming it gets "unknown driver" with its location.

#include <memory>
#include <span>
#include <string_view>

#include "config/driver_spec.hpp"
#include "daemon/device.hpp"
#include "daemon/expected.hpp"

namespace nursery::plugins {

namespace simulated {
class World;
}

// What plugins share beyond the per-device host: owned by the daemon (or a
// test), outliving every device.
struct PluginEnvironment {
  // Where simulated devices keep their physical state, so that a restarted
  // hub (in tests) finds them as real hardware would be. Null: each
  // simulated device keeps its own.
  simulated::World* simulated_world = nullptr;
};

struct PluginDescriptor {
  const config::DriverSpec& spec;
  // Creates a device from a block the loader has already checked against spec.
  Expected<std::unique_ptr<Device>> (*create)(const config::DeviceConfig& config, DeviceHost& host,
                                              const PluginEnvironment& environment);
  // For `nurseryctl ble scan`: true for an advertisement this driver would
  // take (by its services, manufacturer or name). Null: not a BLE driver.
  bool (*recognises)(const BleScanResult& seen);
};

std::span<const PluginDescriptor* const> all();
const PluginDescriptor* find(std::string_view driver);
// For config::load_file.
config::DriverCatalog catalog();
// The driver that would take a device seen in a scan, or empty.
std::string_view driver_for(const BleScanResult& seen);
// For the hub's DeviceFactory.
Expected<std::unique_ptr<Device>> create_device(const config::DeviceConfig& config,
                                                DeviceHost& host,
                                                const PluginEnvironment& environment);

}  // namespace nursery::plugins
