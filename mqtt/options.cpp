#include "mqtt/options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>

#include "mqtt/topic.hpp"

namespace nursery::mqtt {
namespace {

Error option_error(std::string message) {
  return Error{"invalid_mqtt_option", std::move(message), 400};
}

Error uri_error(std::string_view uri, std::string_view why) {
  return Error{"invalid_mqtt_uri",
               fmt::format("MQTT broker URI \"{}\" {}; expected tcp://HOST:PORT or "
                           "ssl://HOST:PORT",
                           uri, why),
               400};
}

Status check_fixed(const FixedMessage& m, std::string_view what) {
  if (auto s = validate_topic_name(m.topic); !s)
    return option_error(fmt::format("{}: {}", what, s.error().message));
  if (m.qos < 0 || m.qos > 2) return option_error(fmt::format("{}: qos must be 0, 1 or 2", what));
  return Ok{};
}

Status check_readable(const std::string& file, std::string_view what) {
  if (file.empty()) return Ok{};
  if (::access(file.c_str(), R_OK) != 0)
    return option_error(fmt::format("{} \"{}\" cannot be read", what, file));
  return Ok{};
}

}  // namespace

std::string BrokerAddress::paho_uri() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", tls ? "ssl" : "tcp", v6 ? "[" : "", host, v6 ? "]" : "",
                     port);
}

std::string BrokerAddress::describe() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{}{}", v6 ? "[" : "", host, v6 ? "]" : "", port, tls ? " (TLS)" : "");
}

Expected<BrokerAddress> parse_broker_uri(std::string_view uri) {
  BrokerAddress out;
  const auto sep = uri.find("://");
  if (sep == std::string_view::npos) return uri_error(uri, "has no scheme");
  const std::string_view scheme = uri.substr(0, sep);
  if (scheme == "tcp" || scheme == "mqtt")
    out.tls = false;
  else if (scheme == "ssl" || scheme == "mqtts")
    out.tls = true;
  else
    return uri_error(uri, fmt::format("has the unsupported scheme \"{}\"", scheme));
  std::string_view rest = uri.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ ") != std::string_view::npos)
    return uri_error(uri, "has a path, a query or credentials; give only host and port");
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return uri_error(uri, "has an unclosed '['");
    out.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return uri_error(uri, "has text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return uri_error(uri, "has an empty port");
    }
  } else {
    const auto colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return uri_error(uri, "has an empty port");
    }
  }
  if (out.host.empty()) return uri_error(uri, "has no host");
  if (port_text.empty()) {
    out.port = out.tls ? 8883 : 1883;
  } else {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
      return uri_error(uri,
                       fmt::format("has the port \"{}\", not a number from 1 to 65535", port_text));
    out.port = port;
  }
  return out;
}

Status validate(const Options& o) {
  auto broker = parse_broker_uri(o.uri);
  if (!broker) return broker.error();
  if (o.client_id.size() > 65535) return option_error("client_id is longer than 65535 bytes");
  if (!is_valid_utf8(o.client_id)) return option_error("client_id is not valid UTF-8");
  if (!o.password.empty() && o.username.empty())
    return option_error("a password needs a username (MQTT 3.1.1 sends none without)");
  if (o.keep_alive.count() < 0 || o.keep_alive.count() > 65535)
    return option_error("keep_alive must be from 0 to 65535 seconds");
  if (o.qos < 0 || o.qos > 2) return option_error("qos must be 0, 1 or 2");
  if (o.max_payload == 0) return option_error("max_payload must be at least 1 byte");
  if (o.will)
    if (auto s = check_fixed(*o.will, "will"); !s) return s;
  if (o.final_message)
    if (auto s = check_fixed(*o.final_message, "final message"); !s) return s;
  if (o.reconnect_min.count() <= 0) return option_error("reconnect_min must be positive");
  if (o.reconnect_max < o.reconnect_min)
    return option_error("reconnect_max must not be shorter than reconnect_min");
  if (o.connect_timeout.count() < 1000)
    return option_error("connect_timeout must be at least 1 s (Paho counts whole seconds)");
  if (o.max_queued == 0) return option_error("max_queued must be at least 1");
  if (o.max_inflight < 1 || o.max_inflight > 65535)
    return option_error("max_inflight must be from 1 to 65535");
  if (o.stop_timeout.count() < 0) return option_error("stop_timeout must not be negative");
  if (broker->tls) {
    if (o.tls.cert_file.empty() != o.tls.key_file.empty())
      return option_error("tls: a client certificate and its key go together");
    if (auto s = check_readable(o.tls.ca_file, "tls: CA file"); !s) return s;
    if (auto s = check_readable(o.tls.cert_file, "tls: certificate file"); !s) return s;
    if (auto s = check_readable(o.tls.key_file, "tls: key file"); !s) return s;
  } else if (!o.tls.ca_file.empty() || !o.tls.cert_file.empty() || !o.tls.key_file.empty()) {
    return option_error("tls files are given but the URI is not ssl:// (or mqtts://)");
  }
  return Ok{};
}

}  // namespace nursery::mqtt
