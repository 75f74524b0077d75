// The JSON of the Hub API: what every surface accepts, refuses and answers.
#include "daemon/api_json/api_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace nursery {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TimePoint at(int hours, int minutes, int seconds) {
  using namespace std::chrono;
  // 2024-05-01T00:00:00Z
  return TimePoint(milliseconds(1714521600000LL)) + hours * 1h + minutes * 1min + seconds * 1s;
}

// ---- device commands -------------------------------------------------------

void expect_refused(const json& body, std::string_view code, std::string_view mentions) {
  auto parsed = parse_device_request(body);
  ASSERT_FALSE(parsed.ok()) << body.dump();
  EXPECT_EQ(parsed.error().code, code) << body.dump();
  EXPECT_EQ(parsed.error().http_status, 400) << body.dump();
  EXPECT_THAT(parsed.error().message, HasSubstr(std::string(mentions))) << body.dump();
}

TEST(DeviceCommandJson, RefusesABrightnessAboveOne) {
  expect_refused(json{{"brightness", 1.5}}, "invalid_value", "brightness");
}

TEST(DeviceCommandJson, RefusesANegativeVolume) {
  expect_refused(json{{"volume", -3}}, "invalid_value", "volume");
}

TEST(DeviceCommandJson, RefusesAnIntensityAboveOne) {
  expect_refused(json{{"intensity", 2}}, "invalid_value", "intensity");
}

TEST(DeviceCommandJson, RefusesAStringWhereANumberIsExpectedSayingItMustBeANumber) {
  expect_refused(json{{"brightness", "high"}}, "invalid_value", "must be a number");
  expect_refused(json{{"volume", true}}, "invalid_value", "must be a number");
  expect_refused(json{{"intensity", nullptr}}, "invalid_value", "must be a number");
}

TEST(DeviceCommandJson, RefusesOnThatIsNotABoolean) {
  expect_refused(json{{"on", "yes"}}, "invalid_value", "on must be true or false");
  expect_refused(json{{"on", 1}}, "invalid_value", "on must be true or false");
}

TEST(DeviceCommandJson, RefusesAColourTemperatureOutsideWhatALightCanBe) {
  expect_refused(json{{"color_temp", 50}}, "invalid_value", "color_temp");
  expect_refused(json{{"color_temp", 20000}}, "invalid_value", "color_temp");
  expect_refused(json{{"color_temp", 1e300}}, "invalid_value", "color_temp");
}

TEST(DeviceCommandJson, RefusesAFractionalOrTextualColourTemperature) {
  expect_refused(json{{"color_temp", 2700.5}}, "invalid_value", "whole number");
  expect_refused(json{{"color_temp", "warm"}}, "invalid_value", "whole number");
}

TEST(DeviceCommandJson, RefusesAnEmptyOrNonStringTrackOrPattern) {
  expect_refused(json{{"track", ""}}, "invalid_value", "track");
  expect_refused(json{{"pattern", 3}}, "invalid_value", "pattern");
}

TEST(DeviceCommandJson, RefusesATransitionThatIsNegativeTooLongOrNotANumber) {
  expect_refused(json{{"on", true}, {"transition", -1}}, "invalid_value", "transition");
  expect_refused(json{{"on", true}, {"transition", 3601}}, "invalid_value", "transition");
  expect_refused(json{{"on", true}, {"transition", "slow"}}, "invalid_value", "transition");
}

TEST(DeviceCommandJson, GuardsAgainstNonFiniteNumbers) {
  // JSON text cannot spell them, but a json value built in code can hold them.
  double nan = std::numeric_limits<double>::quiet_NaN();
  double inf = std::numeric_limits<double>::infinity();
  expect_refused(json{{"brightness", nan}}, "invalid_value", "brightness");
  expect_refused(json{{"volume", inf}}, "invalid_value", "volume");
  expect_refused(json{{"color_temp", inf}}, "invalid_value", "color_temp");
  expect_refused(json{{"on", true}, {"transition", nan}}, "invalid_value", "transition");
}

TEST(DeviceCommandJson, RefusesAnUnknownKeyNamingIt) {
  expect_refused(json{{"brightnes", 0.5}}, "invalid_request", "\"brightnes\"");
}

TEST(DeviceCommandJson, ReportsAnUnknownKeyBeforeABadValue) {
  expect_refused(json{{"brightness", 7}, {"zzz", 1}}, "invalid_request", "\"zzz\"");
}

TEST(DeviceCommandJson, RefusesACommandThatSetsNothing) {
  expect_refused(json::object(), "invalid_request", "nothing to set");
  expect_refused(json{{"transition", 5}}, "invalid_request", "nothing to set");
}

TEST(DeviceCommandJson, RefusesABodyThatIsNotAnObject) {
  expect_refused(json::array({1, 2}), "invalid_request", "JSON object");
  expect_refused(json("on"), "invalid_request", "JSON object");
  expect_refused(json(nullptr), "invalid_request", "JSON object");
}

TEST(DeviceCommandJson, ParsesEveryFieldIntoTheCommand) {
  auto parsed = parse_device_request(json{{"on", true},
                                          {"brightness", 0.25},
                                          {"color_temp", 2200},
                                          {"volume", 0},
                                          {"track", "white-noise"},
                                          {"intensity", 1},
                                          {"pattern", "wave"},
                                          {"transition", 2.5}});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  DeviceValues expected;
  expected.brightness = Level::permille(250);
  expected.color_temp = 2200;
  expected.volume = Level::permille(0);
  expected.track = "white-noise";
  expected.intensity = kLevelMax;
  expected.pattern = "wave";
  EXPECT_EQ(parsed->values, expected);
  EXPECT_EQ(parsed->on, true) << "a plain \"on\" switches the whole device";
  EXPECT_EQ(parsed->transition, Duration(2500));
}

TEST(DeviceCommandJson, AcceptsAWholeColourTemperatureWrittenAsADecimal) {
  auto parsed = parse_device_request(json::parse(R"({"color_temp": 2700.0})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->values.color_temp, 2700);
}

TEST(DeviceCommandJson, SetsOnlyWhatWasGiven) {
  auto parsed = parse_device_request(json{{"brightness", 0.5}});
  ASSERT_TRUE(parsed.ok());
  DeviceValues expected;
  expected.brightness = Level::permille(500);
  EXPECT_EQ(parsed->values, expected);
  EXPECT_FALSE(parsed->on);
  EXPECT_EQ(parsed->transition, Duration(0));
}

TEST(DeviceCommandJson, AddressesOneCapabilityOfADeviceThatHasSeveral) {
  auto parsed = parse_device_request(
      json::parse(R"({"light":{"on":false},"sound":{"on":true,"volume":0.3}})"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->values.light_on, false);
  EXPECT_EQ(parsed->values.sound_on, true);
  EXPECT_EQ(parsed->values.volume, Level::permille(300));
  EXPECT_FALSE(parsed->values.massager_on);
}

TEST(DeviceCommandJson, RefusesAFieldInTheWrongCapability) {
  expect_refused(json::parse(R"({"light":{"volume":0.3}})"), "invalid_request", "volume");
  expect_refused(json::parse(R"({"sound":true})"), "invalid_request", "object");
}

TEST(DeviceCommandJson, RefusesTracksAndPatternsThatAreNotShortTokens) {
  expect_refused(json{{"track", std::string(5000, 'a')}}, "invalid_value", "track");
  expect_refused(json{{"track", "white\nnoise"}}, "invalid_value", "track");
  expect_refused(json{{"pattern", "\x1b[31m"}}, "invalid_value", "pattern");
}

TEST(DeviceValuesJson, LevelsAreExactThousandthsNotFloatArtefacts) {
  DeviceValues v;
  v.brightness = Level::permille(470);
  v.volume = Level::permille(5);
  EXPECT_EQ(dump_json(values_json(v, Capability::Light | Capability::Sound)),
            R"({"light":{"brightness":0.47},"sound":{"volume":0.005}})");
  DeviceValues single;
  single.light_on = true;
  single.brightness = Level::permille(470);
  EXPECT_EQ(dump_json(values_json(single, bit(Capability::Light))),
            R"({"brightness":0.47,"on":true})");
}

// ---- routine requests ------------------------------------------------------

void expect_routine_refused(const json& body, std::string_view mentions) {
  auto parsed = parse_routine_request(body);
  ASSERT_FALSE(parsed.ok()) << body.dump();
  EXPECT_EQ(parsed.error().code, "invalid_request") << body.dump();
  EXPECT_EQ(parsed.error().http_status, 400);
  EXPECT_THAT(parsed.error().message, HasSubstr(std::string(mentions))) << body.dump();
}

TEST(RoutineRequestJson, RefusesAnUnknownAction) {
  expect_routine_refused(json{{"action", "dance"}}, "action");
}

TEST(RoutineRequestJson, RefusesAMissingOrNonStringAction) {
  expect_routine_refused(json::object(), "action is required");
  expect_routine_refused(json{{"action", 1}}, "action must be a string");
}

TEST(RoutineRequestJson, RefusesARoutineNameWithAnyActionButStart) {
  expect_routine_refused(json{{"action", "stop"}, {"routine", "bedtime"}}, "only");
}

TEST(RoutineRequestJson, RefusesAnEmptyOrNonStringRoutineName) {
  expect_routine_refused(json{{"action", "start"}, {"routine", ""}}, "routine");
  expect_routine_refused(json{{"action", "start"}, {"routine", 7}}, "routine");
}

TEST(RoutineRequestJson, RefusesAnUnknownKeyNamingIt) {
  expect_routine_refused(json{{"action", "start"}, {"when", "now"}}, "\"when\"");
}

TEST(RoutineRequestJson, RefusesABodyThatIsNotAnObject) {
  expect_routine_refused(json("start"), "JSON object");
}

TEST(RoutineRequestJson, ParsesStartWithAndWithoutARoutine) {
  auto named = parse_routine_request(json{{"action", "start"}, {"routine", "bedtime"}});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->action, RoutineAction::Start);
  EXPECT_EQ(named->routine, "bedtime");

  auto plain = parse_routine_request(json{{"action", "start"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->routine.has_value());
}

TEST(RoutineRequestJson, ParsesEveryAction) {
  for (auto [name, action] :
       {std::pair{"stop", RoutineAction::Stop}, std::pair{"pause", RoutineAction::Pause},
        std::pair{"resume", RoutineAction::Resume}, std::pair{"skip", RoutineAction::Skip}}) {
    auto parsed = parse_routine_request(json{{"action", name}});
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(parsed->action, action) << name;
  }
}

// ---- answers ---------------------------------------------------------------

HubStatus sample_status() {
  HubStatus status;
  status.name = "Nursery Hub";
  status.time_zone = "Europe/London";
  status.version = "0.1.0";
  status.now = at(19, 30, 0);
  RoomStatus room;
  room.id = "nursery";
  room.name = "Nursery";
  room.night = true;
  DeviceStatus light;
  light.id = "night-light";
  light.name = "Night light";
  light.driver = "simulated";
  light.capabilities = static_cast<unsigned>(Capability::Light);
  light.availability = Availability::Available;
  light.state.light_on = true;
  light.state.brightness = Level::permille(100);
  light.state.color_temp = 2200;
  room.devices.push_back(light);
  DeviceStatus hatch;
  hatch.id = "hatch";
  hatch.name = "Hatch";
  hatch.driver = "hatch-rest";
  hatch.capabilities = Capability::Sound | Capability::Light;
  hatch.overridden = bit(Capability::Light);
  hatch.availability = Availability::Unavailable;
  hatch.availability_reason = "out of range";
  hatch.battery = 80;
  hatch.state.light_on = false;
  hatch.state.sound_on = true;
  room.devices.push_back(hatch);
  room.routine.state = RoutineState::Running;
  room.routine.routine = "bedtime";
  room.routine.step_index = 2;
  room.routine.step_count = 7;
  room.routine.started_at = at(19, 0, 0);
  room.routine.ends_at = at(19, 45, 10);
  status.rooms.push_back(room);
  return status;
}

TEST(StatusJson, HasTheHubAndEachRoomWithDevicesAndRoutine) {
  json j = to_json(sample_status());
  EXPECT_EQ(j["hub"], (json{{"name", "Nursery Hub"},
                            {"time_zone", "Europe/London"},
                            {"version", "0.1.0"},
                            {"now", "2024-05-01T19:30:00Z"}}));
  ASSERT_EQ(j["rooms"].size(), 1u);
  const json& room = j["rooms"][0];
  EXPECT_EQ(room["id"], "nursery");
  EXPECT_EQ(room["name"], "Nursery");
  EXPECT_EQ(room["night"], true);
  EXPECT_EQ(room["routine"], (json{{"state", "running"},
                                   {"routine", "bedtime"},
                                   {"step_index", 2},
                                   {"step_count", 7},
                                   {"started_at", "2024-05-01T19:00:00Z"},
                                   {"ends_at", "2024-05-01T19:45:10Z"}}));
  ASSERT_EQ(room["devices"].size(), 2u);
  EXPECT_EQ(room["devices"][0],
            (json{{"id", "night-light"},
                  {"name", "Night light"},
                  {"driver", "simulated"},
                  {"capabilities", {"light"}},
                  {"available", true},
                  {"availability", "available"},
                  {"availability_reason", nullptr},
                  {"battery", nullptr},
                  {"link_quality", nullptr},
                  {"overridden", false},
                  {"held", json::array()},
                  {"state", {{"on", true}, {"brightness", 0.1}, {"color_temp", 2200}}},
                  {"asked", json::object()},
                  {"command", nullptr}}));
  const json& hatch = room["devices"][1];
  EXPECT_EQ(hatch["capabilities"], (json{"light", "sound"}));
  EXPECT_EQ(hatch["state"], (json{{"light", {{"on", false}}}, {"sound", {{"on", true}}}}));
  EXPECT_EQ(hatch["available"], false);
  EXPECT_EQ(hatch["availability"], "unavailable");
  EXPECT_EQ(hatch["availability_reason"], "out of range");
  EXPECT_EQ(hatch["battery"], 80);
  EXPECT_EQ(hatch["overridden"], true);
  EXPECT_EQ(hatch["held"], (json{"light"}));
}

TEST(StatusJson, AnIdleRoutineHasNullNameAndTimes) {
  json j = to_json(RoutineStatus{});
  EXPECT_EQ(j, (json{{"state", "idle"},
                     {"routine", nullptr},
                     {"step_index", 0},
                     {"step_count", 0},
                     {"started_at", nullptr},
                     {"ends_at", nullptr}}));
}

TEST(StatusJson, APausedRoutineHasNoEnd) {
  RoutineStatus paused;
  paused.state = RoutineState::Paused;
  paused.routine = "bedtime";
  paused.started_at = at(19, 0, 0);
  json j = to_json(paused);
  EXPECT_EQ(j["state"], "paused");
  EXPECT_EQ(j["routine"], "bedtime");
  EXPECT_TRUE(j["ends_at"].is_null());
}

TEST(RunJson, AnOpenRunHasNullEndAndOutcome) {
  RunRecord run;
  run.id = 4;
  run.room = "nursery";
  run.routine = "bedtime";
  run.started_at = at(19, 0, 0);
  run.pauses.push_back({at(19, 10, 0), at(19, 12, 30)});
  run.pauses.push_back({at(19, 20, 0), std::nullopt});
  json j = to_json(run, at(19, 25, 0));
  EXPECT_EQ(j["id"], 4);
  EXPECT_EQ(j["room"], "nursery");
  EXPECT_EQ(j["routine"], "bedtime");
  EXPECT_EQ(j["started_at"], "2024-05-01T19:00:00Z");
  EXPECT_TRUE(j["ended_at"].is_null());
  EXPECT_TRUE(j["outcome"].is_null());
  EXPECT_EQ(j["paused_ms"], 150000 + 300000) << "the open pause counts up to now";
}

TEST(RunJson, ARunStoppedWhilePausedCountsThePauseUpToItsEnd) {
  RunRecord run;
  run.started_at = at(19, 0, 0);
  run.pauses.push_back({at(19, 10, 0), std::nullopt});
  run.ended_at = at(19, 13, 0);
  run.outcome = Outcome::Stopped;
  EXPECT_EQ(to_json(run, at(20, 0, 0))["paused_ms"], 180000);
}

TEST(RunJson, AFinishedRunHasItsEndAndOutcome) {
  RunRecord run;
  run.started_at = at(19, 0, 0);
  run.ended_at = at(19, 45, 0);
  run.outcome = Outcome::Completed;
  json j = to_json(run, at(20, 0, 0));
  EXPECT_EQ(j["ended_at"], "2024-05-01T19:45:00Z");
  EXPECT_EQ(j["outcome"], "completed");
}

TEST(CommandResultJson, ListsWhatWasRequestedAppliedAndClamped) {
  CommandResult result;
  result.room = "nursery";
  result.device = "sound";
  result.capabilities = bit(Capability::Sound);
  result.requested.volume = Level::permille(900);
  result.applied.volume = Level::permille(500);
  result.clamps.push_back({"volume", "0.9", "0.5", "the volume cap is 50%", false});
  EXPECT_EQ(to_json(result), (json{{"room", "nursery"},
                                   {"device", "sound"},
                                   {"requested", {{"volume", 0.9}}},
                                   {"applied", {{"volume", 0.5}}},
                                   {"clamped",
                                    {{{"field", "volume"},
                                      {"requested", "0.9"},
                                      {"applied", "0.5"},
                                      {"reason", "the volume cap is 50%"}}}}}));
}

TEST(ErrorJson, HasTheCodeAndTheMessage) {
  EXPECT_EQ(
      error_json(Error{"unknown_room", "There is no room \"attic\".", 404}),
      (json{{"error", {{"code", "unknown_room"}, {"message", "There is no room \"attic\"."}}}}));
}

TEST(DumpJson, ReplacesInvalidUtf8InsteadOfThrowing) {
  json j = std::string("room \xff");
  EXPECT_NO_THROW((void)dump_json(j));
  EXPECT_THAT(dump_json(j), HasSubstr("room"));
}

}  // namespace
}  // namespace nursery
