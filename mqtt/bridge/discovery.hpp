#pragma once
// Home Assistant MQTT discovery for one hub: what to publish (retained) on
// <discovery_prefix>/<component>/<node_id>/<object_id>/config so that HA
// shows the hub, each room and each managed device with their entities.
//
// - node_id is the base topic with every character outside [a-zA-Z0-9_-]
//   as '_' ("daycare/hall" -> "daycare_hall"); object ids are made of room
//   and device ids and the entity's role; unique_id = "nursery_" node_id
//   "_" object_id. All of it comes from ids in the config and base_topic, so
//   it is the same after a restart or a reload and differs between hubs.
// - Per room (an HA device via the hub): buttons start (the room's default
//   routine), stop, pause, resume, skip; a select of the routine to start;
//   sensors routine state, current step, ends at.
// - Per managed device (an HA device via the hub): a JSON-schema light
//   (brightness, colour temperature in kelvin), a switch and numbers (volume,
//   intensity: 0 to the safety limit) and selects (track, pattern: those
//   the config's routines use) for sound and massager, a battery sensor once
//   the device has reported one.
// - Availability: the hub's <base>/status, and for device entities the
//   device's own "available" too (availability_mode: all).
// Thread: any. Nothing here throws.

#include <string>
#include <vector>

#include "config/model.hpp"
#include "daemon/hub_api.hpp"
#include "mqtt/bridge/topics.hpp"

namespace nursery::mqtt::bridge {

struct DiscoveryMessage {
  std::string topic;
  std::string payload;  // JSON
};

std::string discovery_node_id(const config::MqttConfig& settings);
// Every config topic of this hub: <prefix>/+/<node_id>/+/config.
std::string discovery_filter(const config::MqttConfig& settings);

// Every entity's config for the hub as configured and as it is now (the
// status says which devices report a battery).
std::vector<DiscoveryMessage> discovery_messages(const config::Config& config,
                                                 const HubStatus& status,
                                                 const config::MqttConfig& settings);

}  // namespace nursery::mqtt::bridge
