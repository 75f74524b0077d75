#pragma once
// The `tasmota` driver: see tasmota.cpp for what it speaks, and the README's
// "MQTT devices" for its config keys.

#include "plugins/registry.hpp"

namespace nursery::plugins::tasmota {

extern const PluginDescriptor kDescriptor;

}  // namespace nursery::plugins::tasmota
