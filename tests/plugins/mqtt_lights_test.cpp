// A Zigbee2MQTT light and a Tasmota light on a real mosquitto, driven by the
// real hub through the zigbee2mqtt and tasmota drivers and the real MQTT
// client, in scaled time (60 hub seconds a second): a whole routine, a wall
// switch seen as an override, a light going out of reach and coming back
// caught up, and bad payloads from the devices that change nothing.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "config/loader.hpp"
#include "daemon/hub.hpp"
#include "daemon/store/store.hpp"
#include "driver_harness.hpp"
#include "light_simulators.hpp"
#include "mosquitto_fixture.hpp"
#include "plugins/registry.hpp"

namespace nursery::testing {
namespace {

using namespace std::chrono_literals;
using mqtt::testing::Mosquitto;
using mqtt::testing::run_until;
using mqtt::testing::TestClient;

constexpr double kScale = 60;  // hub seconds per real second

// Step 0 fades both lights up to the night's 10 % amber over 2 min; step 1
// dims them to 2 % over 4 min; step 2 turns them off. 12 min of hub time.
constexpr const char* kConfig = R"([hub]
time_zone = "UTC"

[[rooms]]
id = "nursery"

[[devices]]
id = "ceiling"
room = "nursery"
driver = "zigbee2mqtt"
friendly_name = "Nursery ceiling"
# Hub time: 20 s of real time at the test's scale.
confirm_timeout = "20m"

[[devices]]
id = "lamp"
room = "nursery"
driver = "tasmota"
topic = "nursery_lamp"
confirm_timeout = "20m"

[[routines]]
id = "bedtime"
kind = "bedtime"
  [[routines.steps]]
  at = "0s"
  role = "light"
  fade = "2m"
  on = true
  brightness = 0.1
  color_temp = 2200

  [[routines.steps]]
  at = "6m"
  role = "light"
  fade = "4m"
  brightness = 0.02

  [[routines.steps]]
  at = "12m"
  role = "light"
  on = false
)";

class MqttLights : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    mqtt::Options o;
    o.uri = broker_.uri();
    o.client_id = "nurseryd-test";
    o.reconnect_min = 100ms;
    o.reconnect_max = 500ms;
    client_ = std::make_unique<mqtt::Client>(io_, Logger(sink_, "mqtt"), o);
    zigbee_ = std::make_unique<SimulatedZigbeeLight>(io_, clock_, sim_sink_, broker_.uri(),
                                                     "zigbee2mqtt", "Nursery ceiling");
    tasmota_ = std::make_unique<SimulatedTasmotaLight>(io_, clock_, sim_sink_, broker_.uri(),
                                                       "nursery_lamp");
    zigbee_->start();
    tasmota_->start();
    client_->start();
    ASSERT_TRUE(run_until(io_, [&] {
      return client_->connected() && zigbee_->connected() && tasmota_->connected();
    }));
    auto loaded = config::load_string(kConfig, "test.toml", plugins::catalog());
    ASSERT_TRUE(loaded.ok());
    events_watch_ = events_.subscribe([this](const HubEvent& e) {
      if (const auto* ov = std::get_if<event::Override>(&e)) overrides_.push_back(*ov);
    });
    hub_ = std::make_unique<Hub>(
        clock_, *store_, sink_, events_,
        [this](const config::DeviceConfig& c, DeviceHost& host) {
          return plugins::create_device(c, host, environment_);
        },
        DeviceServices{client_.get(), nullptr});
    hub_->start(*loaded.config);
    ASSERT_TRUE(wait([&] { return device("ceiling").available() && device("lamp").available(); }))
        << log();
  }
  void TearDown() override {
    hub_.reset();
    zigbee_.reset();
    tasmota_.reset();
    client_.reset();
  }

  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
    return run_until(io_, done, timeout, {});
  }
  DeviceStatus device(std::string_view id) {
    for (const auto& r : hub_->status().rooms)
      for (const auto& d : r.devices)
        if (d.id == id) return d;
    ADD_FAILURE() << "no device " << id;
    return {};
  }
  RoutineStatus routine() { return hub_->status().rooms.at(0).routine; }
  void start_bedtime() {
    auto r = hub_->routine("nursery",
                           RoutineRequest{RoutineAction::Start, "bedtime", CommandSource::Control});
    ASSERT_TRUE(static_cast<bool>(r));
  }
  // Both lights at step 0's 10 %, amber.
  bool at_night_light() {
    return zigbee_->on() && std::abs(zigbee_->brightness() - 0.1) < 0.01 && tasmota_->on() &&
           tasmota_->dimmer() == 10;
  }
  std::function<bool()> at_night_light_fn() {
    return [this] { return at_night_light(); };
  }
  // What the Tasmota light would say of itself now.
  std::string tasmota_state_now() const {
    return fmt::format(R"({{"POWER":"{}","Dimmer":{},"CT":{}}})", tasmota_->on() ? "ON" : "OFF",
                       tasmota_->dimmer(), tasmota_->color_temp_mireds());
  }
  std::string log() const {
    std::string out;
    for (const auto& l : sink_.lines) out += l.domain + ": " + l.message + "\n";
    return out;
  }
  std::size_t warnings_containing(std::string_view needle) const {
    return testing::warnings_containing(sink_, needle);
  }

  Mosquitto broker_;
  boost::asio::io_context io_;
  LoopClock clock_{io_, kScale};
  MemorySink sink_;
  MemorySink sim_sink_;
  std::unique_ptr<SqliteStore> store_ = std::move(*SqliteStore::open(":memory:"));
  HubEvents events_;
  Subscription events_watch_;
  std::vector<event::Override> overrides_;
  plugins::PluginEnvironment environment_;
  std::unique_ptr<mqtt::Client> client_;
  std::unique_ptr<SimulatedZigbeeLight> zigbee_;
  std::unique_ptr<SimulatedTasmotaLight> tasmota_;
  std::unique_ptr<Hub> hub_;
};

TEST_F(MqttLights, AWholeRoutineRunsOnBothLightsWithEveryCommandConfirmed) {
  start_bedtime();
  ASSERT_TRUE(wait(at_night_light_fn())) << log();
  EXPECT_NEAR(zigbee_->color_temp_mireds(), 455, 1);
  EXPECT_NEAR(tasmota_->color_temp_mireds(), 455, 1);
  // Step 1: down to 2 %.
  ASSERT_TRUE(wait([&] { return routine().step_index >= 1; })) << log();
  ASSERT_TRUE(wait([&] {
    return std::abs(zigbee_->brightness() - 0.02) < 0.005 && tasmota_->dimmer() == 2;
  })) << log();
  // Step 2 turns both off, and the routine ends.
  ASSERT_TRUE(wait([&] { return routine().state == RoutineState::Idle; })) << log();
  ASSERT_TRUE(wait([&] { return !zigbee_->on() && !tasmota_->on(); })) << log();
  EXPECT_TRUE(overrides_.empty()) << "a fade's own reports are not overrides\n" << log();
  EXPECT_LE(zigbee_->peak_brightness(), 0.1 + 0.005) << "never above the night limit";
  EXPECT_LE(tasmota_->peak_brightness(), 0.1 + 0.005);
  EXPECT_TRUE(wait([&] {
    return device("ceiling").command.state == CommandState::Done &&
           device("lamp").command.state == CommandState::Done;
  })) << log();
  EXPECT_EQ(device("ceiling").state.light_on, false);
  EXPECT_EQ(device("lamp").state.light_on, false);
  EXPECT_EQ(device("ceiling").link_quality, 71) << "Zigbee2MQTT's linkquality 180 of 255";
  // The Tasmota light faded in the hub's software steps, the Zigbee light by itself.
  EXPECT_GT(tasmota_->commands(), zigbee_->commands());
}

TEST_F(MqttLights, AWallSwitchMidRoutineIsAnOverrideTheRoutineLeavesAlone) {
  start_bedtime();
  ASSERT_TRUE(wait(at_night_light_fn())) << log();
  tasmota_->switch_by_hand(false);
  ASSERT_TRUE(wait([&] { return !overrides_.empty(); })) << log();
  EXPECT_EQ(overrides_[0].device, "lamp");
  EXPECT_EQ(overrides_[0].seen.light_on, false);
  EXPECT_TRUE(wait([&] { return device("lamp").overridden != 0; }));
  EXPECT_EQ(device("ceiling").overridden, 0u);
  // Until its next step the routine does not switch it back on.
  const auto commands = tasmota_->commands();
  ASSERT_TRUE(wait([&] { return routine().step_index >= 1; })) << log();
  EXPECT_FALSE(tasmota_->on() && tasmota_->commands() == commands);
}

TEST_F(MqttLights, ALightOutOfReachIsUnavailableAndIsCaughtUpWhenBack) {
  start_bedtime();
  ASSERT_TRUE(wait(at_night_light_fn())) << log();
  zigbee_->go_offline();
  ASSERT_TRUE(wait([&] { return device("ceiling").availability == Availability::Unavailable; }))
      << log();
  EXPECT_NE(device("ceiling").availability_reason.find("offline"), std::string::npos)
      << device("ceiling").availability_reason;
  EXPECT_TRUE(device("lamp").available());
  zigbee_->lose_power_silently();
  zigbee_->come_online();
  ASSERT_TRUE(wait([&] { return device("ceiling").available(); })) << log();
  // What the routine has now is sent again: the light is back on at it.
  ASSERT_TRUE(wait([&] { return zigbee_->on() && zigbee_->brightness() > 0.005; })) << log();
  EXPECT_TRUE(overrides_.empty()) << log();
}

TEST_F(MqttLights, BadPayloadsFromTheLightsChangeNothing) {
  // Idle lights, whose state the hub learnt by asking: nothing else is said
  // on their topics meanwhile.
  ASSERT_TRUE(wait([&] {
    return device("ceiling").state.light_on.has_value() &&
           device("lamp").state.light_on.has_value();
  })) << log();
  const DeviceValues ceiling = device("ceiling").state;
  const DeviceValues lamp = device("lamp").state;
  TestClient garbage(broker_.port());
  ASSERT_TRUE(garbage.connect());
  const std::string z = "zigbee2mqtt/Nursery ceiling";
  for (const char* bad : {"", "{", "[]", R"({"state":"SORT OF"})", R"({"brightness":-1})",
                          R"({"color_temp":"warm-ish"})", "\xc3\x28", "null"})
    ASSERT_TRUE(garbage.publish(z, bad));
  for (const char* bad : {"", "{", "[]", R"({"POWER":"SORT OF"})", R"({"Dimmer":-1})",
                          R"({"CT":"warm-ish"})", "\xc3\x28", "null"}) {
    ASSERT_TRUE(garbage.publish("stat/nursery_lamp/RESULT", bad));
    ASSERT_TRUE(garbage.publish("tele/nursery_lamp/STATE", bad));
  }
  ASSERT_TRUE(garbage.publish(z + "/availability", R"({"state":42})"));
  ASSERT_TRUE(garbage.publish("tele/nursery_lamp/LWT", "Maybe"));
  // A good message after them all: once it is in, the bad ones were seen.
  ASSERT_TRUE(garbage.publish("tele/nursery_lamp/STATE", tasmota_state_now()));
  ASSERT_TRUE(wait([&] { return warnings_containing("tele/nursery_lamp/LWT") == 1; })) << log();
  ASSERT_TRUE(wait([&] { return warnings_containing("tele/nursery_lamp/STATE") == 1; })) << log();
  EXPECT_EQ(warnings_containing("ignored a payload on " + z + " "), 1u) << log();
  EXPECT_EQ(warnings_containing("stat/nursery_lamp/RESULT"), 1u) << log();
  EXPECT_EQ(device("ceiling").state, ceiling);
  EXPECT_EQ(device("lamp").state, lamp);
  EXPECT_TRUE(device("ceiling").available());
  EXPECT_TRUE(device("lamp").available());
  EXPECT_TRUE(overrides_.empty()) << log();
}

}  // namespace
}  // namespace nursery::testing
