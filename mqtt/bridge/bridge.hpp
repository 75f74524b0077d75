#pragma once
// The hub's own topics on MQTT (<base> is [mqtt] base_topic):
//
//   <base>/status                  retained "online" / "offline" (will, clean stop)
//   <base>/<room>/routine          retained JSON, the control API's routine fields
//   <base>/<room>/routine/set      JSON {"action":…,"routine":…} or START, STOP,
//                                  PAUSE, RESUME, SKIP (any case)
//   <base>/<room>/<device>         retained JSON: the control API's device status
//   <base>/<room>/<device>/set     a JSON device command (the control API's body)
//   <base>/<room>/<device>/result  not retained: what was applied and clamped
//   <base>/error                   not retained: {"topic","code","message"} for
//                                  every message refused
//
// plus Home Assistant discovery under [mqtt] discovery_prefix (discovery.hpp).
// What is published follows hub events (no polling); commands go through the
// same HubApi and the same JSON parsers (daemon/api_json) as the control
// socket, so they meet the same safety choke point and the same refusals.
// A command that comes from the broker's retained store is never acted on:
// a stale START must not start a routine at boot.
//
// Thread: the loop thread. Never throws.
// Lifetime: destroy it before the hub, the events and the connection.

#include <functional>
#include <memory>
#include <string>

#include "config/model.hpp"
#include "daemon/clock.hpp"
#include "daemon/hub_api.hpp"
#include "daemon/hub_events.hpp"
#include "daemon/log.hpp"
#include "mqtt/connection.hpp"

namespace nursery::mqtt::bridge {

class Bridge {
 public:
  // `config` gives the hub's current configuration (rooms, devices,
  // routines, limits), which a reload replaces; `settings` is the [mqtt]
  // table, fixed for the bridge's life.
  Bridge(Clock& clock, Connection& connection, HubApi& hub, HubEvents& events,
         std::function<const config::Config&()> config, config::MqttConfig settings, Logger log);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  const config::MqttConfig& settings() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nursery::mqtt::bridge
