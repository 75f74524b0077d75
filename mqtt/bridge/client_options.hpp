#pragma once
// From the [mqtt] table (config::MqttConfig) to what the MQTT client is told:
// the hub's will and final message (retained "offline" on <base>/status)
// included. Thread: any. Never throws.

#include <optional>
#include <string>

#include "config/model.hpp"
#include "daemon/expected.hpp"
#include "mqtt/options.hpp"

namespace nursery::mqtt::bridge {

// <base>/status: retained "online" after every connect, "offline" as the
// will and as the last message of a clean stop.
std::string status_topic(const config::MqttConfig& config);

// The client id used when the config gives none: stable across restarts
// (a broker shows the same client), and distinct per base topic.
std::string default_client_id(const config::MqttConfig& config);

// Options for mqtt::Client, checked by mqtt::validate. The error's message
// starts with the location of the value at fault ("FILE:LINE:COL: …"), as a
// config error does.
Expected<Options> client_options(const config::MqttConfig& config);

// Whether two [mqtt] tables (or their absence) give the same client: a
// reload cannot change the connection, only a restart can.
bool same_client_settings(const std::optional<config::MqttConfig>& a,
                          const std::optional<config::MqttConfig>& b);

}  // namespace nursery::mqtt::bridge
