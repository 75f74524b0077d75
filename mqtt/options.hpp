#pragma once
// What the MQTT client is told: a plain struct that a config loader fills in
// (the [mqtt] table is the bridge's business, not this library's), and its
// validation, so that a bad value is refused at start with a clear sentence.
// Thread: any. Nothing here throws.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/expected.hpp"

namespace nursery::mqtt {

// A message the broker or the client sends on the client's behalf: the will
// (LWT), and the final message stop() publishes before a clean disconnect.
struct FixedMessage {
  std::string topic;
  std::string payload;
  bool retained = true;
  int qos = 1;
};

struct TlsOptions {
  std::string ca_file;    // PEM file of the CA(s) to trust; empty: the system's store
  std::string cert_file;  // client certificate (PEM), for brokers that ask for one
  std::string key_file;   // its private key (PEM); required with cert_file
  bool verify = true;     // check the broker's certificate and host name
};

struct Options {
  // tcp://host:port (mqtt:// is the same) or ssl://host:port (mqtts://).
  // Without a port: 1883, or 8883 for TLS. IPv6 literals go in brackets.
  std::string uri;
  std::string client_id;  // empty: "nursery-" and random hex digits, new per Client
  std::string username;   // empty: none
  std::string password;   // only with a username (MQTT 3.1.1)
  std::chrono::seconds keep_alive{30};
  int qos = 1;     // of every subscription; a publish chooses its own (PublishOptions)
  TlsOptions tls;  // used with ssl:// only
  // An incoming message with a larger payload is not delivered to any
  // subscriber: it is counted and reported to on_oversize().
  std::size_t max_payload = 64 * 1024;
  std::optional<FixedMessage> will;
  // Published by stop() (after what is queued) before the clean disconnect,
  // which does not make the broker send the will: typically the retained
  // "offline" on the status topic the will names too.
  std::optional<FixedMessage> final_message;
  // Between failed connects the wait doubles from min to max (with up to a
  // quarter of random jitter); after a lost connection it starts at min again.
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{30000};
  std::chrono::milliseconds connect_timeout{10000};
  // Messages waiting while the broker is away or Paho's window is full. When
  // it is full the oldest State message goes first; a Command never does.
  std::size_t max_queued = 1000;
  int max_inflight = 32;  // messages handed to Paho and not yet acknowledged
  // How long stop() waits for the queue and the final message to go out.
  std::chrono::milliseconds stop_timeout{2000};
};

struct BrokerAddress {
  bool tls = false;
  std::string host;  // without brackets
  int port = 0;
  std::string paho_uri() const;  // "tcp://host:port" or "ssl://host:port"
  std::string describe() const;  // "127.0.0.1:1883" or "[::1]:8883 (TLS)"
};

// Error code "invalid_mqtt_uri".
Expected<BrokerAddress> parse_broker_uri(std::string_view uri);

// Every rule above; the error says which option and why ("invalid_mqtt_option"
// or "invalid_mqtt_uri"). TLS files are checked for being readable.
Status validate(const Options& options);

}  // namespace nursery::mqtt
