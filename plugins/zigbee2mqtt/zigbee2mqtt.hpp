#pragma once
// The `zigbee2mqtt` driver: see zigbee2mqtt.cpp for what it speaks, and the README's
// "MQTT devices" for its config keys.

#include "plugins/registry.hpp"

namespace nursery::plugins::zigbee2mqtt {

extern const PluginDescriptor kDescriptor;

}  // namespace nursery::plugins::zigbee2mqtt
