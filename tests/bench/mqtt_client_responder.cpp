// The benchmark's responder built on nursery::mqtt::Client: for each trigger
// on bench/trigger it publishes three commands, bench/cmd/1..3, echoing the
// trigger's payload (what the daemon will do for a START). Runs until killed.
// Usage: mqtt_client_responder URI QOS
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "daemon/log.hpp"
#include "mqtt/client.hpp"

namespace {
class StderrLines final : public nursery::LogSink {
 public:
  void write(nursery::LogLevel, std::string_view domain, std::string_view message) override {
    std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(domain.size()), domain.data(),
                 static_cast<int>(message.size()), message.data());
  }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: mqtt_client_responder URI QOS\n");
    return 64;
  }
  boost::asio::io_context io;
  StderrLines sink;
  nursery::mqtt::Options options;
  options.uri = argv[1];
  options.client_id = "bench-client-responder";
  options.qos = std::atoi(argv[2]);
  nursery::mqtt::Client client(io, nursery::Logger(sink, "mqtt"), options);
  const nursery::PublishOptions command{options.qos, false, nursery::PublishKind::Command};
  auto sub = client.subscribe("bench/trigger", [&](const nursery::PubSubMessage& m) {
    for (const char* topic : {"bench/cmd/1", "bench/cmd/2", "bench/cmd/3"})
      client.publish(topic, m.payload, command);
  });
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait(
      [&](const boost::system::error_code&, int) { client.stop([&] { io.stop(); }); });
  client.start();
  auto guard = boost::asio::make_work_guard(io);
  io.run();
}
