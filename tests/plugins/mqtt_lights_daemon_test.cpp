// Black box: the real nurseryd with MQTT on, a real mosquitto, and the
// simulated Zigbee2MQTT and Tasmota lights (in this process, each its own
// MQTT client) — a bedtime routine runs on both lights.

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "daemon_process.hpp"
#include "light_simulators.hpp"
#include "mosquitto_fixture.hpp"

namespace nursery::testing {
namespace {

using namespace std::chrono_literals;
using it::DaemonOptions;
using it::DaemonProcess;
using it::TestHome;
using mqtt::testing::Mosquitto;
using mqtt::testing::run_until;

constexpr double kScale = 60;

std::string config_for(const std::string& uri) {
  return R"([hub]
time_zone = "UTC"

[mqtt]
uri = ")" +
         uri + R"("
client_id = "nurseryd-blackbox"

[[rooms]]
id = "nursery"

[[devices]]
id = "ceiling"
room = "nursery"
driver = "zigbee2mqtt"
friendly_name = "Nursery ceiling"
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
  on = false
)";
}

TEST(NurserydWithMqttLights, RunsABedtimeOnAZigbeeAndATasmotaLightOverTheBroker) {
  Mosquitto broker;
  ASSERT_TRUE(broker.start());
  boost::asio::io_context io;
  LoopClock clock(io, kScale);
  MemorySink sink;
  SimulatedZigbeeLight zigbee(io, clock, sink, broker.uri(), "zigbee2mqtt", "Nursery ceiling");
  SimulatedTasmotaLight tasmota(io, clock, sink, broker.uri(), "nursery_lamp");
  zigbee.start();
  tasmota.start();
  ASSERT_TRUE(run_until(io, [&] { return zigbee.connected() && tasmota.connected(); }));

  TestHome home;
  home.write_config(config_for(broker.uri()));
  DaemonProcess nurseryd(home);
  ASSERT_TRUE(nurseryd.start_and_wait(DaemonOptions{{"--time-scale", "60"}, {}, false}));
  // Both lights known to the hub (their answers to its queries come
  // through this process's loop).
  ASSERT_TRUE(run_until(io,
                        [&] {
                          const auto log = nurseryd.log();
                          return log.find("ceiling is available") != std::string::npos &&
                                 log.find("lamp is available") != std::string::npos;
                        },
                        30s, {}))
      << nurseryd.log();
  // Started as a parent would, through the control API.
  const auto started = it::routine_request(nurseryd, "start", "bedtime");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  ASSERT_TRUE(run_until(io,
                        [&] {
                          return zigbee.on() && std::abs(zigbee.brightness() - 0.1) < 0.01 &&
                                 tasmota.on() && tasmota.dimmer() == 10;
                        },
                        30s, {}))
      << nurseryd.log();
  EXPECT_NEAR(zigbee.color_temp_mireds(), 455, 1);
  ASSERT_TRUE(run_until(io, [&] { return !zigbee.on() && !tasmota.on(); }, 30s, {}))
      << nurseryd.log();
  EXPECT_EQ(nurseryd.log().find("changed by hand"), std::string::npos) << nurseryd.log();
  EXPECT_LE(zigbee.peak_brightness(), 0.105);
  EXPECT_LE(tasmota.peak_brightness(), 0.105);
}

}  // namespace
}  // namespace nursery::testing
