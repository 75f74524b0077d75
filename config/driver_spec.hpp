#pragma once
// What a device driver accepts in its [[devices]] block. Plugins declare one
// constant DriverSpec each; the loader checks every device block against it,
// so `nurseryd --check-config` catches driver errors with their location
// without creating any device.

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "model.hpp"

namespace nursery::config {

enum class OptionType { Bool, Integer, Number, String, Duration };

struct DriverOptionSpec {
  std::string_view key;
  OptionType type;
  bool required = false;
};

struct DriverSpec {
  std::string_view name;
  std::span<const DriverOptionSpec> options;
  // Checks values the types alone do not (an enum, a range). May be null.
  std::vector<Diagnostic> (*validate)(const DeviceConfig&) = nullptr;
  // What a device block gives its room (light, sound, massager), so the
  // loader can warn about routine steps with nothing to act on. Called only
  // for a block that passed its checks. Null: the driver does not say, and
  // the device counts as able to do anything.
  Capabilities (*capabilities)(const DeviceConfig&) = nullptr;
};

// Looks a driver up by name; returns null for an unknown driver.
using DriverCatalog = std::function<const DriverSpec*(std::string_view name)>;

}  // namespace nursery::config
