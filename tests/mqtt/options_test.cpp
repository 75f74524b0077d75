#include "mqtt/options.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "daemon/log.hpp"
#include "mqtt/client.hpp"

namespace nursery::mqtt {
namespace {

Options with_uri(std::string uri) {
  Options o;
  o.uri = std::move(uri);
  return o;
}

TEST(BrokerUri, ParsesSchemesHostsAndDefaultPorts) {
  auto a = parse_broker_uri("tcp://127.0.0.1:1884");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 1884);
  EXPECT_EQ(a->paho_uri(), "tcp://127.0.0.1:1884");

  auto b = parse_broker_uri("mqtts://broker.lan");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, 8883);
  EXPECT_EQ(b->paho_uri(), "ssl://broker.lan:8883");

  auto c = parse_broker_uri("tcp://[::1]:1883");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->paho_uri(), "tcp://[::1]:1883");
  EXPECT_EQ(parse_broker_uri("mqtt://localhost")->port, 1883);
}

TEST(BrokerUri, RefusesWhatPahoWouldMisread) {
  for (const char* bad :
       {"", "127.0.0.1:1883", "http://host:80", "tcp://", "tcp://host:", "tcp://host:0",
        "tcp://host:65536", "tcp://host:12ab", "tcp://user:pw@host:1883", "tcp://host:1883/path",
        "tcp://[::1", "ws://host:80"}) {
    auto r = parse_broker_uri(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "invalid_mqtt_uri");
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
}

TEST(ClientOptions, DefaultsWithAUriAreValid) {
  EXPECT_TRUE(validate(with_uri("tcp://127.0.0.1:1883")).ok());
  Options o = with_uri("tcp://127.0.0.1:1883");
  EXPECT_EQ(o.max_payload, 64u * 1024u);
  EXPECT_EQ(o.qos, 1);
}

TEST(ClientOptions, EachBadValueIsRefusedWithTheOptionNamed) {
  struct Case {
    const char* expect;
    void (*spoil)(Options&);
  };
  const Case cases[] = {
      {"password", [](Options& o) { o.password = "secret"; }},
      {"qos", [](Options& o) { o.qos = 3; }},
      {"max_payload", [](Options& o) { o.max_payload = 0; }},
      {"will",
       [](Options& o) {
         o.will = FixedMessage{"hub/+/status", "offline", true, 1};
       }},
      {"final message",
       [](Options& o) {
         o.final_message = FixedMessage{"", "x", true, 1};
       }},
      {"reconnect_max", [](Options& o) { o.reconnect_max = std::chrono::milliseconds(1); }},
      {"max_queued", [](Options& o) { o.max_queued = 0; }},
      {"tls", [](Options& o) { o.tls.ca_file = "/etc/hostname"; }},  // with tcp://
      {"keep_alive", [](Options& o) { o.keep_alive = std::chrono::seconds(-1); }},
  };
  for (const auto& c : cases) {
    Options o = with_uri("tcp://127.0.0.1:1883");
    c.spoil(o);
    auto s = validate(o);
    ASSERT_FALSE(s.ok()) << c.expect;
    EXPECT_EQ(s.error().code, "invalid_mqtt_option");
    EXPECT_NE(s.error().message.find(c.expect), std::string::npos) << s.error().message;
  }
}

TEST(ClientOptions, UnreadableTlsFilesAreRefused) {
  Options o = with_uri("ssl://127.0.0.1:8883");
  o.tls.ca_file = "/nonexistent/ca.pem";
  auto s = validate(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("/nonexistent/ca.pem"), std::string::npos);
  o.tls.ca_file.clear();
  o.tls.cert_file = "/etc/hostname";
  EXPECT_FALSE(validate(o).ok());  // a certificate without its key
}

TEST(ClientOptions, TheClientRefusesBadOptionsAtConstruction) {
  boost::asio::io_context io;
  MemorySink sink;
  try {
    Client client(io, Logger(sink, "mqtt"), with_uri("tcp//nohost"));
    FAIL() << "constructed with a bad URI";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tcp//nohost"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nursery::mqtt
