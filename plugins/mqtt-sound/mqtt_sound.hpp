#pragma once
// The `mqtt-sound` driver: see mqtt_sound.cpp for what it speaks, and the README's
// "MQTT devices" for its config keys.

#include "plugins/registry.hpp"

namespace nursery::plugins::mqtt_sound {

extern const PluginDescriptor kDescriptor;

}  // namespace nursery::plugins::mqtt_sound
