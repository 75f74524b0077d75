// The bridge over mqtt's in-memory FakeConnection, a hub that records what
// it is asked, and virtual time: what the bridge decides, without a broker.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "daemon/log.hpp"
#include "mqtt/bridge/bridge.hpp"
#include "mqtt/fake_connection.hpp"

namespace nursery::mqtt::bridge {
namespace {

using namespace std::chrono_literals;

class RecordingHub final : public HubApi {
 public:
  HubStatus status() const override {
    HubStatus s;
    RoomStatus room;
    room.id = "nursery";
    DeviceStatus lamp;
    lamp.id = "lamp";
    lamp.capabilities = bit(Capability::Light);
    lamp.availability = Availability::Available;
    room.devices.push_back(lamp);
    s.rooms.push_back(room);
    return s;
  }
  Expected<RoutineStatus> routine(std::string_view, const RoutineRequest& r) override {
    routine_requests.push_back(r);
    return RoutineStatus{};
  }
  Expected<std::vector<RunRecord>> runs(const RunQuery&) const override {
    return std::vector<RunRecord>{};
  }
  Expected<CommandResult> set_device(std::string_view, std::string_view,
                                     const DeviceRequest& r) override {
    device_requests.push_back(r);
    return CommandResult{};
  }
  std::vector<RoutineRequest> routine_requests;
  std::vector<DeviceRequest> device_requests;
};

config::Config one_lamp() {
  config::Config c;
  c.rooms.push_back({"nursery", "Nursery", "bedtime", {}, {}, {}});
  c.devices.push_back({"lamp", "Lamp", "nursery", "simulated", {}, {}});
  return c;
}

config::MqttConfig small_payloads() {
  config::MqttConfig m;
  m.uri = "tcp://127.0.0.1:1883";
  m.max_payload = 256;
  return m;
}

class BridgeOverFake : public ::testing::Test {
 protected:
  void run() {
    io_.restart();
    io_.poll();
  }
  std::size_t count(std::string_view prefix) const {
    std::size_t n = 0;
    for (const auto& m : conn_.published()) n += m.topic.starts_with(prefix);
    return n;
  }

  boost::asio::io_context io_;
  ManualClock clock_{TimePoint{} + 1000h};
  FakeConnection conn_{io_, 256};
  RecordingHub hub_;
  HubEvents events_;
  config::Config config_ = one_lamp();
  config::MqttConfig settings_ = small_payloads();
  MemorySink sink_;
  Bridge bridge_{clock_,
                 conn_,
                 hub_,
                 events_,
                 [this]() -> const config::Config& { return config_; },
                 settings_,
                 Logger(sink_, "mqtt")};
};

TEST_F(BridgeOverFake, QueuesNoStateWhileDisconnectedAndPublishesAllOnConnect) {
  events_.publish(event::DeviceState{"nursery", "lamp", {}});
  run();
  EXPECT_TRUE(conn_.published().empty());
  conn_.set_connected(true);
  run();
  EXPECT_EQ(count("nursery/status"), 1u);
  EXPECT_EQ(count("nursery/nursery/lamp"), 2u);  // its status and its light state
  EXPECT_GT(count("homeassistant/"), 5u);
}

TEST_F(BridgeOverFake, ARetainedCommandReachesNoHubAndIsAnswered) {
  conn_.retain("nursery/nursery/routine/set", "START");
  conn_.retain("nursery/nursery/lamp/set", R"({"on":true})");
  conn_.set_connected(true);
  run();
  EXPECT_TRUE(hub_.routine_requests.empty());
  EXPECT_TRUE(hub_.device_requests.empty());
  EXPECT_EQ(count("nursery/error"), 2u);
}

TEST_F(BridgeOverFake, AnOversizeCommandIsAnsweredWithoutReachingTheHub) {
  conn_.set_connected(true);
  run();
  conn_.inject({"nursery/nursery/lamp/set", std::string(300, ' '), false});
  run();
  EXPECT_TRUE(hub_.device_requests.empty());
  ASSERT_EQ(count("nursery/error"), 1u);
  EXPECT_NE(conn_.published().back().payload.find("payload_too_large"), std::string::npos);
}

TEST_F(BridgeOverFake, HomeAssistantsBirthRepublishesAfterAShortRandomDelay) {
  conn_.set_connected(true);
  run();
  conn_.clear_published();
  conn_.inject({"homeassistant/status", "online", false});
  run();
  EXPECT_EQ(count("homeassistant/"), 0u) << "not at once";
  clock_.advance(3000ms);
  run();
  EXPECT_GT(count("homeassistant/"), 5u);
  EXPECT_EQ(count("nursery/nursery/routine"), 1u);  // state follows discovery
}

TEST_F(BridgeOverFake, CommandsAreTheHubsWithMqttAsTheirSource) {
  conn_.set_connected(true);
  run();
  conn_.inject({"nursery/nursery/routine/set", "skip", false});
  conn_.inject({"nursery/nursery/lamp/light/set", R"({"state":"OFF"})", false});
  run();
  ASSERT_EQ(hub_.routine_requests.size(), 1u);
  EXPECT_EQ(hub_.routine_requests[0].action, RoutineAction::Skip);
  EXPECT_EQ(hub_.routine_requests[0].source, CommandSource::Mqtt);
  ASSERT_EQ(hub_.device_requests.size(), 1u);
  EXPECT_EQ(hub_.device_requests[0].values.light_on, false);
  EXPECT_EQ(count("nursery/nursery/lamp/result"), 1u);
}

}  // namespace
}  // namespace nursery::mqtt::bridge
