#pragma once
// The `mqtt-massager` driver: see mqtt_massager.cpp for what it speaks, and the README's
// "MQTT devices" for its config keys.

#include "plugins/registry.hpp"

namespace nursery::plugins::mqtt_massager {

extern const PluginDescriptor kDescriptor;

}  // namespace nursery::plugins::mqtt_massager
