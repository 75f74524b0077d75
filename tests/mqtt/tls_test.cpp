// The client over TLS to a mosquitto with a throwaway CA made by openssl in
// the test's own directory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "daemon/log.hpp"
#include "mosquitto_fixture.hpp"
#include "mqtt/client.hpp"

namespace nursery::mqtt {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Mosquitto;
using testing::run_command;

// A CA and a server certificate for 127.0.0.1 (P-256 keys: quick to make).
class Certificates {
 public:
  Certificates() {
    char pattern[] = "/tmp/nursery-mqtt-tls-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    ::chmod(pattern, 0755);  // readable to a broker run as another user
  }
  ~Certificates() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Makes ca-NAME.crt/key; returns false (with openssl's words) on failure.
  ::testing::AssertionResult make_ca(const std::string& name) {
    return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", path("ca-" + name + ".key"), "-out",
                    path("ca-" + name + ".crt"), "-days", "1", "-subj",
                    "/CN=nursery test CA " + name});
  }
  // Makes server.crt/key for 127.0.0.1, signed by ca-NAME.
  ::testing::AssertionResult make_server(const std::string& ca) {
    std::ofstream(path("san.cnf")) << "subjectAltName=IP:127.0.0.1\n";
    auto req = openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"),
                        "-subj", "/CN=127.0.0.1"});
    if (!req) return req;
    auto sign =
        openssl({"x509", "-req", "-in", path("server.csr"), "-CA", path("ca-" + ca + ".crt"),
                 "-CAkey", path("ca-" + ca + ".key"), "-CAcreateserial", "-out", path("server.crt"),
                 "-days", "1", "-extfile", path("san.cnf")});
    ::chmod(path("server.key").c_str(), 0644);
    return sign;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  ::testing::AssertionResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    std::string out;
    if (run_command(args, &out) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "openssl " << args[1] << " failed:\n" << out;
  }
  fs::path dir_;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.make_ca("trusted"));
    ASSERT_TRUE(certs_.make_ca("other"));
    ASSERT_TRUE(certs_.make_server("trusted"));
    broker_.emplace(testing::BrokerConfig{
        {},
        true,
        {"cafile " + certs_.path("ca-trusted.crt"), "certfile " + certs_.path("server.crt"),
         "keyfile " + certs_.path("server.key")}});
    ASSERT_TRUE(broker_->start());
  }
  Options options(const std::string& ca) {
    Options o;
    o.uri = broker_->uri();
    o.client_id = "hub-tls";
    o.reconnect_min = 50ms;
    o.reconnect_max = 200ms;
    o.tls.ca_file = certs_.path("ca-" + ca + ".crt");
    return o;
  }
  std::string logged() const {
    std::string out;
    for (const auto& l : sink_.lines) out += l.message + "\n";
    return out;
  }

  Certificates certs_;
  std::optional<Mosquitto> broker_;
  boost::asio::io_context io_;
  MemorySink sink_;
};

TEST_F(TlsTest, ConnectsToABrokerWhoseCertificateTheCaSigned) {
  ASSERT_EQ(broker_->uri().rfind("ssl://", 0), 0u);
  Client client(io_, Logger(sink_, "mqtt"), options("trusted"));
  std::vector<std::string> got;
  auto sub =
      client.subscribe("tls/echo", [&](const PubSubMessage& m) { got.push_back(m.payload); });
  client.start();
  ASSERT_TRUE(testing::run_until(io_, [&] { return client.connected(); }))
      << client.stats().last_error << "\n"
      << logged() << broker_->log();
  client.publish("tls/echo", "over TLS", {1, false, PublishKind::State});
  ASSERT_TRUE(testing::run_until(io_, [&] { return !got.empty(); }));
  EXPECT_EQ(got[0], "over TLS");
  EXPECT_TRUE(client.stats().tcp_nodelay);
}

TEST_F(TlsTest, RefusesABrokerSignedByAnotherCaAndSaysSo) {
  Client client(io_, Logger(sink_, "mqtt"), options("other"));
  client.start();
  ASSERT_TRUE(testing::run_until(io_, [&] { return client.stats().connect_failures >= 2; }))
      << logged();
  EXPECT_FALSE(client.connected());
  const std::string error = client.stats().last_error;
  EXPECT_NE(error.find("TLS"), std::string::npos) << error;
}

}  // namespace
}  // namespace nursery::mqtt
