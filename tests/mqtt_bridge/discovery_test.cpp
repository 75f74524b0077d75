// Home Assistant discovery of one hub: which entities, where, with ids that
// stay the same across restarts and differ between hubs.

#include "mqtt/bridge/discovery.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace nursery::mqtt::bridge {
namespace {

using nlohmann::json;

config::Config hall_config() {
  config::Config c;
  c.hub.name = "Hall";
  c.rooms.push_back({"nursery", "Nursery", "bedtime", {}, {}, {}});
  c.devices.push_back({"lamp", "Lamp", "nursery", "simulated", {}, {}});
  c.devices.push_back({"hatch", "Hatch", "nursery", "simulated", {}, {}});
  config::RoutineConfig bedtime;
  bedtime.id = "bedtime";
  config::StepConfig step;
  step.role = Capability::Sound;
  step.values.track = "white-noise";
  bedtime.steps.push_back(step);
  c.routines.push_back(bedtime);
  c.routines.push_back(config::RoutineConfig{"nap", "Nap", config::RoutineKind::Other, {}, {}});
  return c;
}

HubStatus hall_status(std::optional<int> battery = std::nullopt) {
  HubStatus s;
  RoomStatus room;
  room.id = "nursery";
  DeviceStatus lamp;
  lamp.id = "lamp";
  lamp.capabilities = bit(Capability::Light);
  DeviceStatus hatch;
  hatch.id = "hatch";
  hatch.capabilities = Capability::Light | Capability::Sound;
  hatch.battery = battery;
  room.devices = {lamp, hatch};
  s.rooms.push_back(room);
  return s;
}

config::MqttConfig settings(std::string base) {
  config::MqttConfig m;
  m.uri = "tcp://127.0.0.1:1883";
  m.base_topic = std::move(base);
  return m;
}

std::map<std::string, json> by_topic(const std::vector<DiscoveryMessage>& messages) {
  std::map<std::string, json> out;
  for (const auto& m : messages) out[m.topic] = json::parse(m.payload);
  return out;
}

TEST(Discovery, GivesEachRoomItsButtonsSelectAndSensors) {
  const auto all = by_topic(discovery_messages(hall_config(), hall_status(), settings("hall")));
  for (auto action : {"start", "stop", "pause", "resume", "skip"}) {
    const auto topic = std::string("homeassistant/button/hall/nursery_") + action + "/config";
    ASSERT_TRUE(all.count(topic)) << topic;
    EXPECT_EQ(all.at(topic)["command_topic"], "hall/nursery/routine/set");
  }
  const auto& select = all.at("homeassistant/select/hall/nursery_routine/config");
  EXPECT_EQ(select["options"], json::array({"bedtime", "nap"}));
  EXPECT_TRUE(all.count("homeassistant/sensor/hall/nursery_routine_state/config"));
  EXPECT_TRUE(all.count("homeassistant/sensor/hall/nursery_routine_step/config"));
  EXPECT_EQ(all.at("homeassistant/sensor/hall/nursery_routine_ends_at/config")["device_class"],
            "timestamp");
}

TEST(Discovery, GivesALightAJsonSchemaEntityInKelvinTiedToHubAndDevice) {
  const auto all = by_topic(discovery_messages(hall_config(), hall_status(), settings("hall")));
  const auto& light = all.at("homeassistant/light/hall/nursery_lamp_light/config");
  EXPECT_EQ(light["schema"], "json");
  EXPECT_EQ(light["color_temp_kelvin"], true);
  EXPECT_EQ(light["supported_color_modes"], json::array({"color_temp"}));
  EXPECT_EQ(light["command_topic"], "hall/nursery/lamp/light/set");
  EXPECT_EQ(light["availability_mode"], "all");
  ASSERT_EQ(light["availability"].size(), 2u);
  EXPECT_EQ(light["availability"][0]["topic"], "hall/status");
  EXPECT_EQ(light["availability"][1]["topic"], "hall/nursery/lamp");
  EXPECT_EQ(light["device"]["via_device"], "nursery_hall");
  EXPECT_EQ(light["device"]["model"], "simulated");
  EXPECT_EQ(light["device"]["name"], "Lamp");
}

TEST(Discovery, KeepsSoundNumbersWithinTheSafetyLimit) {
  auto cfg = hall_config();
  cfg.safety.sound.max_volume = Level::permille(400);
  const auto all = by_topic(discovery_messages(cfg, hall_status(), settings("hall")));
  const auto& volume = all.at("homeassistant/number/hall/nursery_hatch_volume/config");
  EXPECT_EQ(volume["max"], 0.4);
  EXPECT_EQ(volume["min"], 0);
  EXPECT_EQ(all.at("homeassistant/select/hall/nursery_hatch_track/config")["options"],
            json::array({"white-noise"}));
  EXPECT_TRUE(all.count("homeassistant/switch/hall/nursery_hatch_sound/config"));
  EXPECT_FALSE(all.count("homeassistant/switch/hall/nursery_lamp_sound/config"));
}

TEST(Discovery, AddsABatterySensorOnlyOnceTheDeviceReportsOne) {
  const auto topic = "homeassistant/sensor/hall/nursery_hatch_battery/config";
  EXPECT_FALSE(
      by_topic(discovery_messages(hall_config(), hall_status(), settings("hall"))).count(topic));
  EXPECT_TRUE(
      by_topic(discovery_messages(hall_config(), hall_status(80), settings("hall"))).count(topic));
}

TEST(Discovery, UniqueIdsAreTheSameEveryTimeAndDifferBetweenHubs) {
  auto ids = [](const std::string& base) {
    std::set<std::string> out;
    for (const auto& m : discovery_messages(hall_config(), hall_status(), settings(base)))
      out.insert(json::parse(m.payload)["unique_id"].get<std::string>());
    return out;
  };
  const auto hall = ids("daycare/hall");
  EXPECT_EQ(hall, ids("daycare/hall"));
  const auto annex = ids("daycare/annex");
  for (const auto& id : hall) EXPECT_FALSE(annex.count(id)) << id;
  EXPECT_TRUE(hall.count("nursery_daycare_hall_nursery_start"));
  EXPECT_EQ(discovery_filter(settings("daycare/hall")), "homeassistant/+/daycare_hall/+/config");
}

}  // namespace
}  // namespace nursery::mqtt::bridge
