// A process that runs one nursery::mqtt::Client until it is killed: the
// will test kills it with SIGKILL and expects the broker to publish the will.
// Usage: mqtt_client_child URI CLIENT_ID STATUS_TOPIC
// Sets the will to the retained "offline" on STATUS_TOPIC and publishes the
// retained "online" there once connected.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
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
  if (argc != 4) {
    std::fprintf(stderr, "usage: mqtt_client_child URI CLIENT_ID STATUS_TOPIC\n");
    return 64;
  }
  boost::asio::io_context io;
  StderrLines sink;
  nursery::mqtt::Options options;
  options.uri = argv[1];
  options.client_id = argv[2];
  options.keep_alive = std::chrono::seconds(5);
  options.will = nursery::mqtt::FixedMessage{argv[3], "offline", true, 1};
  nursery::mqtt::Client client(io, nursery::Logger(sink, "mqtt"), options);
  auto watch = client.watch_connection([&](bool up) {
    if (up) client.publish(argv[3], "online", {1, true, nursery::PublishKind::State});
  });
  client.start();
  auto guard = boost::asio::make_work_guard(io);
  io.run();
}
