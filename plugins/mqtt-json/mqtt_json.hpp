#pragma once
// The `mqtt-json` driver: see mqtt_json.cpp for what it speaks, and the README's
// "MQTT devices" for its config keys.

#include "plugins/registry.hpp"

namespace nursery::plugins::mqtt_json {

extern const PluginDescriptor kDescriptor;

}  // namespace nursery::plugins::mqtt_json
