#include "mqtt/bridge/client_options.hpp"

#include <fmt/format.h>

#include <tuple>

namespace nursery::mqtt::bridge {

std::string status_topic(const config::MqttConfig& config) { return config.base_topic + "/status"; }

std::string default_client_id(const config::MqttConfig& config) {
  std::string id = "nurseryd-";
  for (char c : config.base_topic) id += c == '/' ? '-' : c;
  return id;
}

Expected<Options> client_options(const config::MqttConfig& config) {
  Options o;
  o.uri = config.uri;
  o.client_id = config.client_id.empty() ? default_client_id(config) : config.client_id;
  o.username = config.username;
  o.password = config.password;
  o.keep_alive = config.keep_alive;
  o.qos = config.qos;
  o.max_payload = config.max_payload;
  o.tls.ca_file = config.tls.ca_file;
  o.tls.cert_file = config.tls.cert_file;
  o.tls.key_file = config.tls.key_file;
  o.tls.verify = config.tls.verify;
  o.will = FixedMessage{status_topic(config), "offline", true, 1};
  o.final_message = o.will;
  if (auto st = validate(o); !st) {
    const auto& where = st.error().code == "invalid_mqtt_uri" ? config.uri_where : config.where;
    return Error{st.error().code, fmt::format("{}: {}", where.to_string(), st.error().message),
                 st.error().http_status};
  }
  return o;
}

bool same_client_settings(const std::optional<config::MqttConfig>& a,
                          const std::optional<config::MqttConfig>& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  auto key = [](const config::MqttConfig& m) {
    return std::tie(m.uri, m.client_id, m.username, m.password, m.base_topic, m.discovery_prefix,
                    m.keep_alive, m.qos, m.tls.ca_file, m.tls.cert_file, m.tls.key_file,
                    m.tls.verify, m.max_payload);
  };
  return key(*a) == key(*b);
}

}  // namespace nursery::mqtt::bridge
