#pragma once
// What the hub's MQTT layer (the bridge, the MQTT drivers) builds on: the
// PubSub slot of daemon/services.hpp plus what a surface shows about the
// link. Client implements it against a real broker, FakeConnection in memory
// for tests; code written against Connection runs on either.
// Thread and lifetime rules: those of PubSub (daemon/services.hpp).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "daemon/services.hpp"

namespace nursery::mqtt {

struct Stats {
  bool connected = false;        // connected and subscriptions renewed
  std::uint64_t connects = 0;    // successful connects, the first included
  std::uint64_t reconnects = 0;  // successful connects after the first
  std::uint64_t connect_failures = 0;
  std::size_t queued = 0;               // waiting for the broker or for Paho's window
  std::size_t in_flight = 0;            // handed to Paho, not yet acknowledged
  std::uint64_t published = 0;          // acknowledged (QoS 1, 2) or written (QoS 0)
  std::uint64_t received = 0;           // incoming messages within max_payload
  std::uint64_t dropped_state = 0;      // State messages dropped from a full queue
  std::uint64_t oversize_refused = 0;   // incoming messages over max_payload
  std::uint64_t refused_publishes = 0;  // invalid topic or QoS, or published after stop()
  bool tcp_nodelay = false;             // TCP_NODELAY is set on the current connection
  std::string last_error;               // the latest failure, for a person; empty if none
};

// An incoming message over max_payload: its topic, its payload's size in
// bytes, and whether it came from the broker's retained store.
using OversizeHandler =
    std::function<void(const std::string& topic, std::size_t size, bool retained)>;

class Connection : public PubSub {
 public:
  virtual Stats stats() const = 0;
  // One handler per connection (a later call replaces it); invoked on the
  // loop thread for each message that was not delivered because of its size.
  virtual void on_oversize(OversizeHandler handler) = 0;
  virtual std::size_t max_payload() const = 0;
};

}  // namespace nursery::mqtt
