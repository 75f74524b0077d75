// The MQTT drivers on an in-memory broker, in virtual time: what each sends,
// how what the device publishes becomes reports with context, acknowledged
// commands, availability, and what a bad payload does (nothing).

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "driver_harness.hpp"
#include "plugins/mqtt-common/mqtt_common.hpp"

namespace nursery::testing {
namespace {

using nlohmann::json;

constexpr const char* kZigbee = R"([[devices]]
id = "ceiling"
room = "nursery"
driver = "zigbee2mqtt"
friendly_name = "Nursery ceiling"
)";

constexpr const char* kTasmota = R"([[devices]]
id = "lamp"
room = "nursery"
driver = "tasmota"
topic = "nursery_lamp"
)";

const std::string kZ = "zigbee2mqtt/Nursery ceiling";

DeviceValues light(bool on, std::optional<int> brightness_pct = {},
                   std::optional<int> kelvin = {}) {
  DeviceValues v;
  v.light_on = on;
  if (brightness_pct) v.brightness = pct(*brightness_pct);
  v.color_temp = kelvin;
  return v;
}

using ZigbeeLight = DriverHarness;

TEST_F(ZigbeeLight, SendsStateBrightnessOn254MiredsAndTransitionInSeconds) {
  make(kZigbee);
  device_says(kZ + "/availability", "online", true);
  apply(light(true, 50, 2200), 3s);
  const auto sent = sent_on(kZ + "/set");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json::parse(sent[0]),
            json::parse(R"({"state":"ON","brightness":127,"color_temp":455,"transition":3.0})"));
  apply(light(false), 0ms);
  EXPECT_EQ(json::parse(sent_on(kZ + "/set").at(1)), json::parse(R"({"state":"OFF"})"));
}

TEST_F(ZigbeeLight, AsksForItsStateWhenTheBrokerConnects) {
  make(kZigbee);
  EXPECT_EQ(sent_on(kZ + "/get"), std::vector<std::string>{R"({"state":""})"});
}

TEST_F(ZigbeeLight, ACommandIsDoneWhenTheLightReportsIt) {
  make(kZigbee);
  const auto id = apply(light(true, 10, 2200));
  EXPECT_TRUE(host_.results.empty()) << "not before the light says so";
  device_says(kZ, R"({"state":"ON","brightness":25,"color_temp":455,"linkquality":204})");
  ASSERT_EQ(host_.results.size(), 1u);
  EXPECT_EQ(host_.results[0].id, id);
  EXPECT_EQ(host_.results[0].outcome, CommandOutcome::Done);
  ASSERT_EQ(host_.reports.size(), 1u);
  EXPECT_EQ(host_.reports[0].answers, id);
  EXPECT_FALSE(host_.reports[0].in_transition);
  EXPECT_EQ(host_.reports[0].observed.brightness, Level::permille(98));
  EXPECT_EQ(host_.reports[0].observed.color_temp, 2198);
  EXPECT_EQ(host_.link_qualities, std::vector<int>{80});
}

TEST_F(ZigbeeLight, ACommandNoReportConfirmsTimesOutWithWhatWasMissing) {
  make(kZigbee);
  const auto id = apply(light(true, 10));
  device_says(kZ, R"({"state":"ON","brightness":200})");  // something else
  advance(10s);
  ASSERT_EQ(host_.results.size(), 1u);
  EXPECT_EQ(host_.results[0].id, id);
  EXPECT_EQ(host_.results[0].outcome, CommandOutcome::TimedOut);
  EXPECT_NE(host_.results[0].reason.find("Zigbee2MQTT did not report"), std::string::npos)
      << host_.results[0].reason;
  EXPECT_LT(std::chrono::seconds(10), device_->command_timeout()) << "the driver's reason first";
}

TEST_F(ZigbeeLight, AWallSwitchChangeIsReportedAnsweringNoCommand) {
  make(kZigbee);
  apply(light(true, 10));
  device_says(kZ, R"({"state":"ON","brightness":25})");
  device_says(kZ, R"({"state":"OFF","brightness":25})");
  ASSERT_EQ(host_.reports.size(), 2u);
  EXPECT_EQ(host_.reports[1].observed.light_on, false);
  EXPECT_EQ(host_.reports[1].answers, std::nullopt);
  EXPECT_FALSE(host_.reports[1].in_transition);
}

TEST_F(ZigbeeLight, ReportsOnTheWayThroughAFadeAreMarkedInTransition) {
  make(kZigbee);
  device_says(kZ, R"({"state":"ON","brightness":254})");
  const auto id = apply(light(true, 10), 60s);
  advance(5s);
  device_says(kZ, R"({"state":"ON","brightness":230})");
  ASSERT_EQ(host_.reports.size(), 2u);
  EXPECT_TRUE(host_.reports[1].in_transition);
  EXPECT_EQ(host_.reports[1].answers, id);
  EXPECT_EQ(host_.results.at(0).outcome, CommandOutcome::Done) << "it is carrying it out";
  advance(30s);
  device_says(kZ, R"({"state":"ON","brightness":120})");
  EXPECT_TRUE(host_.reports[2].in_transition) << "after the fade was confirmed, still on its way";
  EXPECT_EQ(host_.reports[2].answers, id);
  advance(25s);
  device_says(kZ, R"({"state":"ON","brightness":25})");
  EXPECT_FALSE(host_.reports[3].in_transition);
  EXPECT_EQ(host_.reports[3].answers, id);
}

TEST_F(ZigbeeLight, TakesAvailabilityInThePlainAndTheJsonForm) {
  make(kZigbee);
  EXPECT_EQ(host_.current(), Availability::Connecting);
  device_says(kZ + "/availability", "online", true);
  device_says(kZ, R"({"state":"OFF"})");  // the answer to its /get
  EXPECT_EQ(host_.current(), Availability::Available);
  device_says(kZ + "/availability", R"({"state":"offline"})");
  EXPECT_EQ(host_.current(), Availability::Unavailable);
  EXPECT_NE(host_.availabilities.back().reason.find("offline"), std::string::npos);
  device_says(kZ + "/availability", R"({"state":"online"})");
  EXPECT_EQ(host_.current(), Availability::Connecting) << "until it says what it has";
  device_says(kZ, R"({"state":"OFF"})");
  EXPECT_EQ(host_.current(), Availability::Available);
  device_says(kZ + "/availability", "offline");
  EXPECT_EQ(host_.current(), Availability::Unavailable);
}

TEST_F(ZigbeeLight, ComingBackOnlineAsksForTheStateAgain) {
  make(kZigbee);
  device_says(kZ + "/availability", "offline", true);
  bus_.clear_published();
  device_says(kZ + "/availability", "online");
  EXPECT_EQ(sent_on(kZ + "/get").size(), 1u);
}

TEST_F(ZigbeeLight, ACommandInFlightFailsWhenTheLightGoesOffline) {
  make(kZigbee);
  device_says(kZ + "/availability", "online", true);
  const auto id = apply(light(true, 10));
  device_says(kZ + "/availability", "offline");
  ASSERT_EQ(host_.results.size(), 1u);
  EXPECT_EQ(host_.results[0].id, id);
  EXPECT_EQ(host_.results[0].outcome, CommandOutcome::Failed);
}

TEST_F(ZigbeeLight, WithoutAnAvailabilityMessageItIsAvailableSoonAfterConnecting) {
  make(kZigbee);
  EXPECT_EQ(host_.current(), Availability::Connecting);
  advance(3s);
  EXPECT_EQ(host_.current(), Availability::Available);
}

TEST_F(ZigbeeLight, TheBrokerGoneMakesItUnavailableAndItsReturnAvailable) {
  make(kZigbee);
  device_says(kZ + "/availability", "online", true);
  bus_.set_connected(false);
  settle();
  EXPECT_EQ(host_.current(), Availability::Unavailable);
  EXPECT_NE(host_.availabilities.back().reason.find("broker"), std::string::npos);
  bus_.set_connected(true);
  settle();
  EXPECT_EQ(host_.current(), Availability::Connecting);
  advance(3s);  // no answer to its /get: taken as there after a moment
  EXPECT_EQ(host_.current(), Availability::Available);
}

TEST_F(ZigbeeLight, BadPayloadsChangeNothingAndAreLoggedOncePerTopic) {
  make(kZigbee);
  device_says(kZ + "/availability", "online", true);
  device_says(kZ, R"({"state":"ON","brightness":100})");
  const auto reports = host_.reports.size();
  const auto availabilities = host_.availabilities.size();
  for (const char* bad : {"", "not json", "[1,2]", R"({"state":"MAYBE"})", R"({"brightness":"x"})",
                          R"({"brightness":300})", R"({"color_temp":-5})", "{\"state\":\"\xff\"}",
                          R"({"state":"ON")", "null", "42"})
    device_says(kZ, bad);
  device_says(kZ + "/availability", "perhaps");
  device_says(kZ + "/availability", R"({"state":7})");
  EXPECT_EQ(host_.reports.size(), reports);
  EXPECT_EQ(host_.availabilities.size(), availabilities);
  EXPECT_EQ(host_.current(), Availability::Available);
  EXPECT_EQ(warnings_containing("ignored a payload on " + kZ + " "), 1u);
  EXPECT_EQ(warnings_containing("ignored a payload on " + kZ + "/availability"), 1u);
  // A good payload, then a bad one again: logged again.
  device_says(kZ, R"({"state":"OFF"})");
  device_says(kZ, "garbage");
  EXPECT_EQ(warnings_containing("ignored a payload on " + kZ + " "), 2u);
}

TEST_F(ZigbeeLight, WithoutMqttItIsUnavailableAndSaysWhy) {
  RecordingHost host(clock_, sink_, nullptr);
  auto r = load_with_device(kZigbee);
  ASSERT_TRUE(r.ok());
  auto d = plugins::create_device(r.config->devices[0], host, environment_);
  (*d)->start();
  EXPECT_EQ(host.current(), Availability::Unavailable);
  EXPECT_NE(host.availabilities.back().reason.find("[mqtt]"), std::string::npos);
}

using TasmotaLight = DriverHarness;

TEST_F(TasmotaLight, SendsOneBacklogWithFadeCtDimmerAndPower) {
  make(kTasmota);
  apply(light(true, 40, 2200));
  EXPECT_EQ(sent_on("cmnd/nursery_lamp/Backlog"),
            std::vector<std::string>{"Fade 0; CT 455; Dimmer 40; Power ON"});
  apply(light(false));
  EXPECT_EQ(sent_on("cmnd/nursery_lamp/Backlog").at(1), "Fade 0; Power OFF");
}

TEST_F(TasmotaLight, ANativeFadeSetsSpeedForTheSpanItMoves) {
  make(std::string(kTasmota) + "native_transition = true\n");
  device_says("stat/nursery_lamp/RESULT", R"({"POWER":"ON","Dimmer":60})");
  apply(light(true, 40), 4s);  // 20 % in 4 s: the full range would take 20 s = Speed 40
  EXPECT_EQ(sent_on("cmnd/nursery_lamp/Backlog").at(0), "Fade 1; Speed 40; Dimmer 40; Power ON");
  apply(light(true, 50), 1s);  // 10 % in 1 s: 10 s for the full range
  EXPECT_EQ(sent_on("cmnd/nursery_lamp/Backlog").at(1), "Fade 1; Speed 20; Dimmer 50; Power ON");
}

TEST_F(TasmotaLight, ABacklogIsDoneOnceItsResultsTogetherConfirmIt) {
  make(kTasmota);
  const auto id = apply(light(true, 40, 2200));
  device_says("stat/nursery_lamp/RESULT", R"({"Fade":"OFF"})");
  device_says("stat/nursery_lamp/RESULT", R"({"POWER":"ON","CT":455})");
  EXPECT_TRUE(host_.results.empty());
  device_says("stat/nursery_lamp/RESULT", R"({"POWER":"ON","Dimmer":40,"CT":455})");
  ASSERT_EQ(host_.results.size(), 1u);
  EXPECT_EQ(host_.results[0].id, id);
  EXPECT_EQ(host_.results[0].outcome, CommandOutcome::Done);
  EXPECT_EQ(host_.reports.back().answers, id);
}

TEST_F(TasmotaLight, TelemetryGivesStateAndLinkQuality) {
  make(kTasmota);
  device_says("tele/nursery_lamp/STATE",
              R"({"Time":"2026-11-26T19:00:00","POWER":"OFF","Dimmer":30,"CT":300,)"
              R"("Wifi":{"AP":1,"SSId":"home","RSSI":76,"Signal":-62}})");
  ASSERT_EQ(host_.reports.size(), 1u);
  EXPECT_EQ(host_.reports[0].observed.light_on, false);
  EXPECT_EQ(host_.reports[0].answers, std::nullopt);
  EXPECT_EQ(host_.link_qualities, std::vector<int>{76});
}

TEST_F(TasmotaLight, FollowsItsLwtAndAsksForItsStateWhenBack) {
  make(kTasmota);
  device_says("tele/nursery_lamp/LWT", "Offline", true);
  EXPECT_EQ(host_.current(), Availability::Unavailable);
  EXPECT_NE(host_.availabilities.back().reason.find("Tasmota says it is offline"),
            std::string::npos);
  bus_.clear_published();
  device_says("tele/nursery_lamp/LWT", "Online", true);
  EXPECT_EQ(sent_on("cmnd/nursery_lamp/State").size(), 1u);
  device_says("stat/nursery_lamp/RESULT", R"({"POWER":"OFF","Dimmer":20,"CT":300})");
  EXPECT_EQ(host_.current(), Availability::Available);
}

TEST_F(TasmotaLight, BadPayloadsChangeNothing) {
  make(kTasmota);
  device_says("tele/nursery_lamp/LWT", "Online", true);
  advance(3s);
  for (const char* bad :
       {"ON", R"({"POWER":3})", R"({"Dimmer":101})", R"({"Dimmer":"high"})", R"({"CT":20})", "{"})
    device_says("stat/nursery_lamp/RESULT", bad);
  device_says("tele/nursery_lamp/LWT", "Sleeping");
  EXPECT_TRUE(host_.reports.empty());
  EXPECT_EQ(host_.current(), Availability::Available);
  EXPECT_EQ(warnings_containing("stat/nursery_lamp/RESULT"), 1u);
}

using MqttJsonLight = DriverHarness;

TEST_F(MqttJsonLight, ScalesBrightnessAndSpeaksKelvinWhenConfigured) {
  make(R"([[devices]]
id = "strip"
room = "nursery"
driver = "mqtt-json"
command_topic = "esphome/strip/command"
state_topic = "esphome/strip/state"
availability_topic = "esphome/strip/status"
brightness_scale = 100
color_temp_kelvin = true
min_kelvin = 2700
)");
  const auto id = apply(light(true, 30, 2200), 2s);
  EXPECT_EQ(json::parse(sent_on("esphome/strip/command").at(0)),
            json::parse(R"({"state":"ON","brightness":30,"color_temp":2700,"transition":2.0})"))
      << "the light's warmest is 2700 K";
  device_says("esphome/strip/state", R"({"state":"ON","brightness":30,"color_temp":2700})");
  EXPECT_EQ(host_.results.at(0).id, id);
  EXPECT_EQ(host_.results.at(0).outcome, CommandOutcome::Done);
  device_says("esphome/strip/status", "offline", true);
  EXPECT_EQ(host_.current(), Availability::Unavailable);
}

TEST_F(MqttJsonLight, WithoutAStateTopicACommandIsDoneOnceSent) {
  make(R"([[devices]]
id = "strip"
room = "nursery"
driver = "mqtt-json"
command_topic = "esphome/strip/command"
)");
  EXPECT_EQ(host_.current(), Availability::Available);
  apply(light(true, 100));
  ASSERT_EQ(host_.results.size(), 1u);
  EXPECT_EQ(host_.results[0].outcome, CommandOutcome::Done);
  EXPECT_EQ(json::parse(sent_on("esphome/strip/command").at(0)),
            json::parse(R"({"state":"ON","brightness":255})"));
}

using MqttSound = DriverHarness;

TEST_F(MqttSound, MapsFieldsAndTracksToTheDevicesWords) {
  make(R"([[devices]]
id = "speaker"
room = "nursery"
driver = "mqtt-sound"
command_topic = "esphome/speaker/set"
state_topic = "esphome/speaker/state"
on_field = "power"
on_value = "true"
off_value = "false"
volume_field = "audio.level"
volume_scale = 255
track_values = "white-noise=3, rain=7"
)");
  DeviceValues v;
  v.sound_on = true;
  v.volume = pct(30);
  v.track = "white-noise";
  const auto id = apply(v);
  EXPECT_EQ(json::parse(sent_on("esphome/speaker/set").at(0)),
            json::parse(R"({"power":true,"audio":{"level":77},"track":3})"));
  device_says("esphome/speaker/state", R"({"power":true,"audio":{"level":77},"track":3})");
  ASSERT_EQ(host_.results.size(), 1u);
  EXPECT_EQ(host_.results[0].id, id);
  EXPECT_EQ(host_.results[0].outcome, CommandOutcome::Done);
  EXPECT_EQ(host_.reports.back().observed.track, "white-noise");
  // Someone switches it off with its own button.
  device_says("esphome/speaker/state", R"({"power":false})");
  EXPECT_EQ(host_.reports.back().observed.sound_on, false);
  EXPECT_EQ(host_.reports.back().answers, std::nullopt);
  // A bad volume changes nothing.
  const auto n = host_.reports.size();
  device_says("esphome/speaker/state", R"({"power":true,"audio":{"level":900}})");
  EXPECT_EQ(host_.reports.size(), n);
}

TEST_F(MqttSound, SpeaksTasmotaBacklogAndReadsItsAnswerWhateverTheCase) {
  make(R"([[devices]]
id = "speaker"
room = "nursery"
driver = "mqtt-sound"
command_topic = "cmnd/speaker/Backlog"
state_topic = "stat/speaker/RESULT"
availability_topic = "tele/speaker/LWT"
payload_available = "Online"
payload_not_available = "Offline"
command_format = "backlog"
on_field = "Power"
volume_field = "Volume"
track_field = ""
)");
  DeviceValues v;
  v.sound_on = true;
  v.volume = pct(25);
  v.track = "rain";
  apply(v);
  EXPECT_EQ(sent_on("cmnd/speaker/Backlog").at(0), "Power ON; Volume 25");
  device_says("stat/speaker/RESULT", R"({"POWER":"ON","VOLUME":25})");
  EXPECT_EQ(host_.results.at(0).outcome, CommandOutcome::Done);
}

using MqttMassager = DriverHarness;

TEST_F(MqttMassager, SendsTheSessionLengthForItsOwnTimer) {
  make(R"([[devices]]
id = "pad"
room = "nursery"
driver = "mqtt-massager"
command_topic = "pad/set"
state_topic = "pad/state"
session_field = "timer"
pattern_values = "wave=2"
)");
  DeviceCommand c;
  c.id = 7;
  c.values.massager_on = true;
  c.values.intensity = pct(30);
  c.values.pattern = "wave";
  c.massage_session = std::chrono::minutes(15);
  device_->apply(c);
  settle();
  EXPECT_EQ(json::parse(sent_on("pad/set").at(0)),
            json::parse(R"({"state":"ON","intensity":30,"pattern":2,"timer":900})"));
  device_says("pad/state", R"({"state":"ON","intensity":30,"pattern":2})");
  EXPECT_EQ(host_.results.at(0).outcome, CommandOutcome::Done);
}

// --- config -------------------------------------------------------------------

struct BadConfig {
  const char* name;
  std::string block;
  std::string message;  // part of the error
  int line;             // where it points
};

class MqttDriverConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(MqttDriverConfig, IsRefusedWithTheKeysLocation) {
  const auto& c = GetParam();
  auto r = load_with_device(c.block);
  EXPECT_FALSE(r.ok());
  const auto text = diagnostics_text(r);
  EXPECT_NE(text.find(c.message), std::string::npos) << text;
  // The device block begins on line 11 of the test config.
  EXPECT_NE(text.find(fmt::format("test.toml:{}:", 10 + c.line)), std::string::npos) << text;
}

const std::string kZ2mHead =
    "[[devices]]\nid = \"c\"\nroom = \"nursery\"\ndriver = \"zigbee2mqtt\"\n";
const std::string kTasHead = "[[devices]]\nid = \"t\"\nroom = \"nursery\"\ndriver = \"tasmota\"\n";
const std::string kSndHead =
    "[[devices]]\nid = \"s\"\nroom = \"nursery\"\ndriver = \"mqtt-sound\"\n";
const std::string kJsonHead =
    "[[devices]]\nid = \"j\"\nroom = \"nursery\"\ndriver = \"mqtt-json\"\n";

INSTANTIATE_TEST_SUITE_P(
    Drivers, MqttDriverConfig,
    ::testing::Values(
        BadConfig{"z2m_missing_name", kZ2mHead, "missing required key \"friendly_name\"", 1},
        BadConfig{"z2m_wildcard", kZ2mHead + "friendly_name = \"kids/+\"\n", "wildcards", 5},
        BadConfig{"z2m_mireds",
                  kZ2mHead + "friendly_name = \"x\"\nmin_mireds = 400\nmax_mireds = 300\n",
                  "min_mireds must be below max_mireds", 6},
        BadConfig{"z2m_base_slash", kZ2mHead + "friendly_name = \"x\"\nbase_topic = \"z2m/\"\n",
                  "base_topic must not begin or end with '/'", 6},
        BadConfig{"tasmota_slash", kTasHead + "topic = \"a/b\"\n", "topic must be one topic level",
                  5},
        BadConfig{"tasmota_type", kTasHead + "topic = \"a\"\nnative_transition = \"yes\"\n", "", 6},
        BadConfig{"json_scale", kJsonHead + "command_topic = \"a\"\nbrightness_scale = 0\n",
                  "brightness_scale must be from 1 to 65535", 6},
        BadConfig{"json_kelvin", kJsonHead + "command_topic = \"a\"\nmax_kelvin = 20000\n",
                  "max_kelvin must be from", 6},
        BadConfig{"sound_map", kSndHead + "command_topic = \"a\"\ntrack_values = \"rain\"\n",
                  "track_values must be a list of name=value pairs", 6},
        BadConfig{"sound_map_token",
                  kSndHead + "command_topic = \"a\"\ntrack_values = \"Rain Storm=1\"\n",
                  "track_values", 6},
        BadConfig{"sound_format", kSndHead + "command_topic = \"a\"\ncommand_format = \"xml\"\n",
                  "command_format must be \"json\" or \"backlog\"", 6},
        BadConfig{"sound_confirm", kSndHead + "command_topic = \"a\"\nconfirm_timeout = \"soon\"\n",
                  "", 6}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(MqttDriverConfigWarnings, AnUnknownKeyIsAWarningWithItsLocationAndTheKeysTheDriverTakes) {
  auto r = load_with_device(kZ2mHead + "friendly_name = \"x\"\nbrightnes = 3\n");
  EXPECT_TRUE(r.ok());
  const auto text = diagnostics_text(r);
  EXPECT_NE(text.find("test.toml:16:1: warning: unknown key \"brightnes\""), std::string::npos)
      << text;
  EXPECT_NE(text.find("friendly_name, base_topic"), std::string::npos) << text;
}

TEST(MqttDriverConfigExample, TheExamplesMqttDevicesLoadOnceUncommented) {
  std::ifstream in(NURSERY_SOURCE_DIR "/config/nurseryd.toml");
  std::string text, line;
  bool in_mqtt_devices = false;
  int uncommented = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# MQTT devices", 0) == 0) in_mqtt_devices = true;
    if (line.rfind("# Routines:", 0) == 0) in_mqtt_devices = false;
    // "#key = value" and "#[[devices]]" are settings; "# words" are comments.
    if (in_mqtt_devices && line.size() > 1 && line[0] == '#' && line[1] != ' ') {
      line.erase(0, 1);
      ++uncommented;
    }
    text += line + "\n";
  }
  EXPECT_GT(uncommented, 50);
  // The example has no [mqtt] table uncommented: the devices load, and say
  // at start that MQTT is off.
  auto r = config::load_string(text, "nurseryd.toml", plugins::catalog());
  EXPECT_TRUE(r.ok()) << diagnostics_text(r);
  for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
  ASSERT_TRUE(r.ok());
  std::set<std::string> drivers;
  for (const auto& d : r.config->devices) drivers.insert(d.driver);
  for (const char* driver : {"zigbee2mqtt", "tasmota", "mqtt-json", "mqtt-sound", "mqtt-massager"})
    EXPECT_TRUE(drivers.count(driver)) << driver;
}

TEST(MqttCommon, AvailabilityPayloadsInEveryForm) {
  using plugins::mqtt_common::parse_availability;
  EXPECT_EQ(parse_availability("online"), true);
  EXPECT_EQ(parse_availability("OFFLINE"), false);
  EXPECT_EQ(parse_availability(R"({"state":"online"})"), true);
  EXPECT_EQ(parse_availability(R"({"state":"offline"})"), false);
  EXPECT_EQ(parse_availability("Online", "Online", "Offline"), true);
  EXPECT_EQ(parse_availability("up", "up", "down"), true);
  EXPECT_EQ(parse_availability(""), std::nullopt);
  EXPECT_EQ(parse_availability(R"({"state":1})"), std::nullopt);
  EXPECT_EQ(parse_availability("\xff"), std::nullopt);
}

TEST(MqttCommon, TopicsJoinWithoutDoubledSlashes) {
  using plugins::mqtt_common::join_topic;
  EXPECT_EQ(join_topic("zigbee2mqtt", "Kids/Ceiling"), "zigbee2mqtt/Kids/Ceiling");
  EXPECT_EQ(join_topic("zigbee2mqtt/", "/set"), "zigbee2mqtt/set");
}

}  // namespace
}  // namespace nursery::testing
