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

struct PluginDescriptor {
  const config::DriverSpec& spec;
  // Creates a device from a block the loader has already checked against spec.
  Expected<std::unique_ptr<Device>> (*create)(const config::DeviceConfig& config, DeviceHost& host);
};

std::span<const PluginDescriptor* const> all();
const PluginDescriptor* find(std::string_view driver);
// For config::load_file.
config::DriverCatalog catalog();
// For Hub::create.
Expected<std::unique_ptr<Device>> create_device(const config::DeviceConfig& config,
                                                DeviceHost& host);

}  // namespace nursery::plugins
