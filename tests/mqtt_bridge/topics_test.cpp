// What the hub's command topics and payloads mean, without a broker: the
// words and codes are the control API's.

#include "mqtt/bridge/topics.hpp"

#include <gtest/gtest.h>

namespace nursery::mqtt::bridge {
namespace {

const Topics kTopics{"daycare/hall"};

TEST(CommandTopic, NamesTheRoomAndTheDeviceItAddresses) {
  auto routine = parse_command_topic(kTopics, "daycare/hall/nursery/routine/set");
  ASSERT_TRUE(routine);
  EXPECT_EQ(routine->kind, CommandKind::Routine);
  EXPECT_EQ(routine->room, "nursery");
  auto device = parse_command_topic(kTopics, "daycare/hall/nursery/sound/set");
  ASSERT_TRUE(device);
  EXPECT_EQ(device->kind, CommandKind::Device);
  EXPECT_EQ(device->device, "sound");
  auto light = parse_command_topic(kTopics, "daycare/hall/nursery/lamp/light/set");
  ASSERT_TRUE(light);
  EXPECT_EQ(light->kind, CommandKind::Light);
  EXPECT_EQ(light->device, "lamp");
}

TEST(CommandTopic, ATopicWithALevelTooFewOrTooManyIsUnknown) {
  for (auto topic : {"daycare/hall/nursery/set", "daycare/hall/a/b/c/set", "daycare/other/x/set"}) {
    auto t = parse_command_topic(kTopics, topic);
    ASSERT_FALSE(t) << topic;
    EXPECT_EQ(t.error().code, "unknown_topic");
  }
}

TEST(RoutinePayload, TakesThePlainWordsInAnyCase) {
  for (auto [word, action] :
       {std::pair{"START", RoutineAction::Start}, std::pair{"stop", RoutineAction::Stop},
        std::pair{"Pause", RoutineAction::Pause}, std::pair{" resume\n", RoutineAction::Resume},
        std::pair{"sKiP", RoutineAction::Skip}}) {
    auto r = parse_routine_payload(word);
    ASSERT_TRUE(r) << word;
    EXPECT_EQ(r->action, action);
    EXPECT_EQ(r->source, CommandSource::Mqtt);
    EXPECT_FALSE(r->routine);
  }
}

TEST(RoutinePayload, TakesTheControlApisJson) {
  auto r = parse_routine_payload(R"({"action":"start","routine":"nap"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->action, RoutineAction::Start);
  EXPECT_EQ(r->routine, "nap");
  EXPECT_EQ(r->source, CommandSource::Mqtt);
}

TEST(RoutinePayload, RefusesOtherWordsAndBadJsonWithTheApisCodes) {
  EXPECT_EQ(parse_routine_payload("GO").error().code, "invalid_request");
  EXPECT_EQ(parse_routine_payload("").error().code, "invalid_request");
  EXPECT_EQ(parse_routine_payload("{\"action\":").error().code, "invalid_json");
  EXPECT_EQ(parse_routine_payload(R"({"action":"stop","routine":"nap"})").error().code,
            "invalid_request");
}

TEST(DevicePayload, IsTheControlApisDeviceCommand) {
  auto r = parse_device_payload(R"({"sound":{"on":true,"volume":0.3}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->values.sound_on, true);
  EXPECT_EQ(r->values.volume, Level::permille(300));
  EXPECT_EQ(r->source, CommandSource::Mqtt);
  EXPECT_EQ(parse_device_payload(R"({"volume":2})").error().code, "invalid_value");
  EXPECT_EQ(parse_device_payload(R"({"volume":"loud"})").error().code, "invalid_value");
  EXPECT_EQ(parse_device_payload(R"({"colour":1})").error().code, "invalid_request");
  EXPECT_EQ(parse_device_payload("[1]").error().code, "invalid_request");
  EXPECT_EQ(parse_device_payload("not json").error().code, "invalid_json");
}

TEST(LightPayload, TranslatesHomeAssistantsJsonLightCommand) {
  auto r =
      parse_light_payload(R"({"state":"ON","brightness":250,"color_temp":2700,"transition":2})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->values.light_on, true);
  EXPECT_EQ(r->values.brightness, Level::permille(250));
  EXPECT_EQ(r->values.color_temp, 2700);
  EXPECT_EQ(r->transition, std::chrono::seconds(2));
  auto off = parse_light_payload(R"({"state":"OFF"})");
  ASSERT_TRUE(off);
  EXPECT_EQ(off->values.light_on, false);
}

TEST(LightPayload, RefusesWhatTheHubsLightsCannotDo) {
  EXPECT_EQ(parse_light_payload(R"({"state":"ON","flash":"short"})").error().code,
            "invalid_request");
  EXPECT_EQ(parse_light_payload(R"({"state":"TOGGLE"})").error().code, "invalid_request");
  EXPECT_EQ(parse_light_payload(R"({"brightness":1001})").error().code, "invalid_value");
  EXPECT_EQ(parse_light_payload(R"({"color_temp":100})").error().code, "invalid_value");
}

TEST(LightState, IsHomeAssistantsJsonLightState) {
  DeviceValues v;
  v.light_on = true;
  v.brightness = Level::permille(100);
  v.color_temp = 2200;
  EXPECT_EQ(light_state_json(v),
            nlohmann::json::parse(
                R"({"state":"ON","brightness":100,"color_mode":"color_temp","color_temp":2200})"));
  EXPECT_TRUE(light_state_json(DeviceValues{})["state"].is_null());
}

TEST(ErrorPayload, NamesTheTopicTheCodeAndTheMessage) {
  const auto j = nlohmann::json::parse(
      error_payload("a/b/set", Error{"invalid_json", "the payload is empty", 400}));
  EXPECT_EQ(j,
            nlohmann::json::parse(
                R"({"topic":"a/b/set","code":"invalid_json","message":"the payload is empty"})"));
}

}  // namespace
}  // namespace nursery::mqtt::bridge
