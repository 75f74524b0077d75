// The real nurseryd on a real mosquitto: the hub's topics round trip, bad
// messages are answered on <base>/error and change nothing, retained
// commands are ignored, the broker can go away mid-routine, Home Assistant's
// birth brings discovery back, two hubs share a broker, and a broker that
// refuses the credentials is retried without a crash.
//
// Every wait is for an event with a generous deadline; nothing sleeps.

#include <gtest/gtest.h>
#include <signal.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "daemon_process.hpp"
#include "mosquitto_fixture.hpp"

namespace nursery::it {
namespace {

using nlohmann::json;
using nursery::mqtt::testing::BrokerConfig;
using nursery::mqtt::testing::Mosquitto;
using nursery::mqtt::testing::ReceivedMessage;
using nursery::mqtt::testing::TestClient;

constexpr Millis kDeadline = 20s;

// A bedtime whose only change after the start is an hour away, with devices
// that fade by themselves: nothing moves while a test looks.
HubSpec still_hub() {
  HubSpec spec;
  spec.routines = {
      {"bedtime",
       "bedtime",
       {{0, "light", {"on = true", "brightness = 0.05", "color_temp = 2200"}},
        {0, "sound", {"on = true", "volume = 0.3", "track = \"white-noise\""}},
        {3600, "light", {"on = false"}},
        {7200, "sound", {"on = false"}}}},
      {"nap",
       "other",
       {{0, "light", {"on = true", "brightness = 0.02"}}, {600, "light", {"on = false"}}}}};
  return spec;
}

std::string with_mqtt(const HubSpec& spec, const Mosquitto& broker, const std::string& base,
                      const std::string& extra = "") {
  return to_toml(spec) + "\n[mqtt]\nuri = \"" + broker.uri() + "\"\nbase_topic = \"" + base +
         "\"\nmax_payload = 1024\n" + extra;
}

// Everything a command could change: the status (less the clock) and the runs.
json snapshot(DaemonProcess& daemon) {
  json status = status_of(daemon);
  if (status.contains("hub")) status["hub"].erase("now");
  return json{{"status", status}, {"runs", runs_of(daemon)}};
}

std::optional<json> as_json(const std::string& payload) {
  auto j = json::parse(payload, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// Pumps `client` until a message on `topic`, received at or after index
// `from`, satisfies `accept`; returns it.
std::optional<ReceivedMessage> wait_for(TestClient& client, std::size_t from,
                                        const std::string& topic,
                                        const std::function<bool(const json&)>& accept,
                                        Millis timeout = kDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto& got = client.received();
    for (std::size_t i = from; i < got.size(); ++i) {
      if (got[i].topic != topic) continue;
      auto j = as_json(got[i].payload);
      if (accept(j ? *j : json(got[i].payload))) return got[i];
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    client.pump(50ms);
  }
}

std::optional<ReceivedMessage> wait_for_any(TestClient& client, std::size_t from,
                                            const std::string& topic, Millis timeout = kDeadline) {
  return wait_for(
      client, from, topic, [](const json&) { return true; }, timeout);
}

std::string describe(const TestClient& client) {
  std::string out;
  for (const auto& m : client.received()) out += m.topic + " " + m.payload.substr(0, 200) + "\n";
  return out;
}

// A hub with MQTT on, and the test's own client subscribed to everything.
class MqttHub : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.start()); }

  void start_hub(const std::string& base = "nursery", const std::string& extra = "") {
    base_ = base;
    home_.write_config(with_mqtt(still_hub(), broker_, base, extra));
    ASSERT_TRUE(daemon_.start_and_wait());
  }

  // Subscribes the test's client to the hub's topics and discovery, and
  // waits for the hub to say it is online.
  void watch() {
    ASSERT_TRUE(client_->connect());
    ASSERT_TRUE(client_->subscribe(base_ + "/#"));
    ASSERT_TRUE(client_->subscribe("homeassistant/#"));
    ASSERT_TRUE(wait_for(*client_, 0, base_ + "/status", [](const json& j) {
      return j == "online";
    })) << daemon_.log();
  }

  void publish(const std::string& topic, std::string_view payload, bool retain = false) {
    ASSERT_TRUE(client_->publish(topic, payload, 1, retain));
  }

  Mosquitto broker_;
  TestHome home_;
  DaemonProcess daemon_{home_};
  std::optional<TestClient> client_;  // made once the broker has its port
  std::string base_;
};

class MqttHubTest : public MqttHub {
 protected:
  void SetUp() override {
    MqttHub::SetUp();
    client_.emplace(broker_.port());
  }
};

TEST_F(MqttHubTest, PublishesStatusStateAndDiscoveryThenOfflineOnACleanStop) {
  start_hub();
  watch();
  EXPECT_TRUE(wait_for(*client_, 0, "nursery/nursery/routine",
                       [](const json& j) { return j.value("state", "") == "idle"; }));
  auto light = wait_for(*client_, 0, "nursery/nursery/night-light",
                        [](const json& j) { return j.value("available", false); });
  ASSERT_TRUE(light) << describe(*client_);
  EXPECT_TRUE(
      wait_for_any(*client_, 0, "homeassistant/light/nursery/nursery_night-light_light/config"));
  EXPECT_TRUE(wait_for_any(*client_, 0, "homeassistant/button/nursery/nursery_start/config"));
  const auto from = client_->received().size();
  ASSERT_TRUE(daemon_.signal(SIGTERM));
  ASSERT_TRUE(daemon_.wait_exit(kDeadline));
  EXPECT_TRUE(wait_for(*client_, from, "nursery/status", [](const json& j) {
    return j == "offline";
  })) << describe(*client_);
}

TEST_F(MqttHubTest, RoutineSetRunsTheRoutineWithPlainWordsAndJson) {
  start_hub();
  watch();
  auto state_after = [&](std::string_view payload, std::string state) {
    const auto from = client_->received().size();
    publish("nursery/nursery/routine/set", payload);
    return wait_for(*client_, from, "nursery/nursery/routine",
                    [&](const json& j) { return j.value("state", "") == state; });
  };
  auto started = state_after("start", "running");
  ASSERT_TRUE(started) << describe(*client_) << daemon_.log();
  EXPECT_EQ(as_json(started->payload)->value("routine", ""), "bedtime");
  EXPECT_TRUE(state_after("PAUSE", "paused"));
  EXPECT_TRUE(state_after("Resume", "running"));
  EXPECT_TRUE(state_after(R"({"action":"stop"})", "idle"));
  auto nap = state_after(R"({"action":"start","routine":"nap"})", "running");
  ASSERT_TRUE(nap) << describe(*client_) << daemon_.log();
  EXPECT_EQ(as_json(nap->payload)->value("routine", ""), "nap");
  EXPECT_EQ(room_routine(status_of(daemon_))["routine"], "nap");
}

TEST_F(MqttHubTest, ADeviceCommandMeetsTheSafetyLimitsAndIsAnsweredOnResult) {
  start_hub();
  watch();
  const auto from = client_->received().size();
  publish("nursery/nursery/sound/set", R"({"on":true,"volume":0.9,"track":"rain"})");
  auto result = wait_for_any(*client_, from, "nursery/nursery/sound/result");
  ASSERT_TRUE(result) << describe(*client_) << daemon_.log();
  const auto r = *as_json(result->payload);
  EXPECT_EQ(r["applied"]["volume"], 0.5) << r.dump();
  ASSERT_EQ(r["clamped"].size(), 1u) << r.dump();
  EXPECT_EQ(r["clamped"][0]["field"], "volume");
  EXPECT_TRUE(wait_for(*client_, from, "nursery/nursery/sound", [](const json& j) {
    return j["state"].value("volume", 0.0) == 0.5 && j["state"].value("on", false);
  })) << describe(*client_);
  EXPECT_EQ(device_in(status_of(daemon_), "sound")["state"]["volume"], 0.5);
}

TEST_F(MqttHubTest, HomeAssistantsJsonLightCommandSetsTheLightAndItsState) {
  start_hub();
  watch();
  const auto from = client_->received().size();
  publish("nursery/nursery/night-light/light/set",
          R"({"state":"ON","brightness":80,"color_temp":2000})");
  EXPECT_TRUE(wait_for_any(*client_, from, "nursery/nursery/night-light/result"))
      << describe(*client_);
  EXPECT_TRUE(wait_for(*client_, from, "nursery/nursery/night-light/light", [](const json& j) {
    return j.value("state", "") == "ON" && j.value("brightness", 0) == 80 &&
           j.value("color_temp", 0) == 2000;
  })) << describe(*client_);
}

struct BadMessage {
  std::string topic;  // under the base
  std::string payload;
  std::string code;
};

TEST_F(MqttHubTest, EveryBadMessageIsAnsweredOnErrorAndChangesNothing) {
  start_hub();
  watch();
  const std::vector<BadMessage> corpus = {
      {"nursery/routine/set", "GO", "invalid_request"},
      {"nursery/routine/set", "", "invalid_request"},
      {"nursery/routine/set", "{\"action\":", "invalid_json"},
      {"nursery/routine/set", R"({"action":"start","routine":"nope"})", "unknown_routine"},
      {"nursery/routine/set", R"({"action":"jump"})", "invalid_request"},
      {"nursery/routine/set", R"({"action":"stop","routine":"nap"})", "invalid_request"},
      {"attic/routine/set", "START", "unknown_room"},
      {"nursery/sound/set", R"({"volume":"loud"})", "invalid_value"},
      {"nursery/sound/set", R"({"volume":2})", "invalid_value"},
      {"nursery/sound/set", R"({"volume":-0.1})", "invalid_value"},
      {"nursery/sound/set", R"({"colour":1})", "invalid_request"},
      {"nursery/sound/set", "[1,2]", "invalid_request"},
      {"nursery/sound/set", "{}", "invalid_request"},
      {"nursery/sound/set", "not json", "invalid_json"},
      {"nursery/sound/set", std::string("{\"track\":\"\xff\xfe\"}"), "invalid_utf8"},
      {"nursery/sound/set", "{\"track\":\"" + std::string(2000, 'a') + "\"}", "payload_too_large"},
      {"nursery/cupboard/set", R"({"on":true})", "unknown_device"},
      {"nursery/set", R"({"on":true})", "unknown_topic"},
      {"nursery/night-light/light/set", R"({"state":"ON","flash":"long"})", "invalid_request"},
      {"nursery/night-light/light/set", R"({"brightness":5000})", "invalid_value"},
      {"nursery/night-light/set", R"({"color_temp":100})", "invalid_value"},
  };
  const json before = snapshot(daemon_);
  for (const auto& bad : corpus) {
    const auto topic = "nursery/" + bad.topic;
    const auto from = client_->received().size();
    publish(topic, bad.payload);
    auto error = wait_for(*client_, from, "nursery/error", [&](const json& j) {
      return j.is_object() && j.value("topic", "") == topic;
    });
    ASSERT_TRUE(error) << topic << " " << bad.payload.substr(0, 80) << "\n" << describe(*client_);
    const auto j = *as_json(error->payload);
    EXPECT_EQ(j.value("code", ""), bad.code)
        << topic << " " << bad.payload.substr(0, 80) << ": " << j.dump();
    EXPECT_FALSE(j.value("message", "").empty());
    EXPECT_FALSE(error->retained);
  }
  EXPECT_EQ(snapshot(daemon_), before);
  EXPECT_TRUE(daemon_.running());
  EXPECT_EQ(client_->count_on("nursery/nursery/sound/result"), 0u);
}

TEST_F(MqttHubTest, ARetainedStartWaitingAtConnectIsIgnoredWithAnError) {
  ASSERT_TRUE(client_->connect());
  publish("nursery/nursery/routine/set", "START", /*retain=*/true);
  ASSERT_TRUE(client_->subscribe("nursery/error"));
  start_hub();
  auto error = wait_for(*client_, 0, "nursery/error",
                        [](const json& j) { return j.value("code", "") == "retained_command"; });
  ASSERT_TRUE(error) << describe(*client_) << daemon_.log();
  EXPECT_TRUE(daemon_.wait_for_log("retained_command"));
  EXPECT_EQ(room_routine(status_of(daemon_))["state"], "idle");
  EXPECT_TRUE(runs_of(daemon_).empty());
  publish("nursery/nursery/routine/set", "", /*retain=*/true);
}

TEST_F(MqttHubTest, TheBrokerStoppedMidRoutineTheRoutineKeepsItsTimingAndStateComesBack) {
  start_hub();
  watch();
  publish("nursery/nursery/routine/set", "START");
  ASSERT_TRUE(wait_for(*client_, 0, "nursery/nursery/routine",
                       [](const json& j) { return j.value("state", "") == "running"; }));
  const json routine = room_routine(status_of(daemon_));
  ASSERT_TRUE(broker_.stop());
  ASSERT_TRUE(daemon_.wait_for_log("reconnecting", kDeadline));
  // The routine runs on while the broker is away.
  EXPECT_EQ(room_routine(status_of(daemon_))["ends_at"], routine["ends_at"]);
  ASSERT_TRUE(broker_.start());
  // A broker without persistence has lost every retained message: all that
  // a new subscriber sees now, the hub has published again.
  TestClient after(broker_.port());
  ASSERT_TRUE(after.connect());
  ASSERT_TRUE(after.subscribe("nursery/#"));
  ASSERT_TRUE(after.subscribe("homeassistant/#"));
  auto back = wait_for(after, 0, "nursery/nursery/routine",
                       [](const json& j) { return j.value("state", "") == "running"; });
  ASSERT_TRUE(back) << describe(after) << daemon_.log();
  EXPECT_EQ(as_json(back->payload)->at("ends_at"), routine["ends_at"]);
  EXPECT_EQ(as_json(back->payload)->at("started_at"), routine["started_at"]);
  EXPECT_TRUE(wait_for(after, 0, "nursery/status", [](const json& j) { return j == "online"; }));
  EXPECT_TRUE(wait_for(after, 0, "nursery/nursery/sound",
                       [](const json& j) { return j.value("available", false); }));
  EXPECT_TRUE(wait_for_any(after, 0, "homeassistant/button/nursery/nursery_start/config"));
  // And commands work again.
  const auto from = after.received().size();
  ASSERT_TRUE(after.publish("nursery/nursery/routine/set", "STOP"));
  EXPECT_TRUE(wait_for(after, from, "nursery/nursery/routine",
                       [](const json& j) { return j.value("state", "") == "idle"; }));
}

TEST_F(MqttHubTest, HomeAssistantsBirthMessageBringsTheDiscoveryBack) {
  start_hub();
  watch();
  const std::string topic = "homeassistant/select/nursery/nursery_routine/config";
  ASSERT_TRUE(wait_for_any(*client_, 0, topic));
  const auto from = client_->received().size();
  publish("homeassistant/status", "online");
  auto again = wait_for_any(*client_, from, topic);
  ASSERT_TRUE(again) << describe(*client_);
  EXPECT_EQ(as_json(again->payload)->at("options"), json::array({"bedtime", "nap"}));
}

TEST_F(MqttHubTest, TheEntitiesOfADeviceRemovedFromTheConfigAreDeletedAtTheNextStart) {
  start_hub();
  watch();
  const std::string topic = "homeassistant/switch/nursery/nursery_massager_massager/config";
  ASSERT_TRUE(wait_for(*client_, 0, topic, [](const json& j) { return j.is_object(); }));
  ASSERT_TRUE(daemon_.signal(SIGTERM));
  ASSERT_TRUE(daemon_.wait_exit(kDeadline));
  std::string toml = with_mqtt(still_hub(), broker_, "nursery");
  const auto begin = toml.find("\n[[devices]]\nid = \"massager\"");
  ASSERT_NE(begin, std::string::npos);
  toml.erase(begin, toml.find("\n[[", begin + 1) - begin);
  home_.write_config(toml);
  const auto from = client_->received().size();
  ASSERT_TRUE(daemon_.start_and_wait());
  EXPECT_TRUE(wait_for(*client_, from, topic, [](const json& j) { return j == ""; }))
      << describe(*client_);
  // What stays is published again, not deleted.
  EXPECT_TRUE(wait_for(*client_, from, "homeassistant/switch/nursery/nursery_sound_sound/config",
                       [](const json& j) { return j.is_object(); }));
}

TEST_F(MqttHubTest, AReloadWithoutADeviceDeletesItsEntitiesAndItsRetainedState) {
  start_hub();
  watch();
  const std::string topic = "homeassistant/number/nursery/nursery_massager_intensity/config";
  ASSERT_TRUE(wait_for(*client_, 0, topic, [](const json& j) { return j.is_object(); }));
  std::string toml = with_mqtt(still_hub(), broker_, "nursery");
  const auto begin = toml.find("\n[[devices]]\nid = \"massager\"");
  ASSERT_NE(begin, std::string::npos);
  toml.erase(begin, toml.find("\n[[", begin + 1) - begin);
  home_.write_config(toml);
  const auto from = client_->received().size();
  ASSERT_TRUE(daemon_.signal(SIGHUP));
  EXPECT_TRUE(wait_for(*client_, from, topic, [](const json& j) { return j == ""; }))
      << describe(*client_) << daemon_.log();
  EXPECT_TRUE(wait_for(*client_, from, "nursery/nursery/massager", [](const json& j) {
    return j == "";
  })) << describe(*client_);
  // The devices that stay are still there, and still answer.
  const auto after = client_->received().size();
  publish("nursery/nursery/sound/set", R"({"on":true})");
  EXPECT_TRUE(wait_for_any(*client_, after, "nursery/nursery/sound/result"));
}

TEST_F(MqttHubTest, TwoHubsOnOneBrokerDoNotSeeEachOthersCommands) {
  start_hub("daycare/hall");
  TestHome annex_home;
  DaemonProcess annex(annex_home);
  annex_home.write_config(with_mqtt(still_hub(), broker_, "daycare/annex"));
  ASSERT_TRUE(annex.start_and_wait());
  ASSERT_TRUE(client_->connect());
  ASSERT_TRUE(client_->subscribe("daycare/#"));
  ASSERT_TRUE(client_->subscribe("homeassistant/#"));
  for (auto base : {"daycare/hall", "daycare/annex"})
    ASSERT_TRUE(wait_for(*client_, 0, std::string(base) + "/status",
                         [](const json& j) { return j == "online"; }));
  publish("daycare/hall/nursery/routine/set", "START");
  ASSERT_TRUE(wait_for(*client_, 0, "daycare/hall/nursery/routine",
                       [](const json& j) { return j.value("state", "") == "running"; }));
  EXPECT_EQ(room_routine(status_of(annex))["state"], "idle");
  publish("daycare/annex/nursery/sound/set", R"({"on":true})");
  ASSERT_TRUE(wait_for_any(*client_, 0, "daycare/annex/nursery/sound/result"));
  EXPECT_EQ(client_->count_on("daycare/hall/nursery/sound/result"), 0u);
  // Discovery: the same entities, each hub's with its own ids.
  const std::string hall_start = "homeassistant/button/daycare_hall/nursery_start/config";
  const std::string annex_start = "homeassistant/button/daycare_annex/nursery_start/config";
  auto a = wait_for_any(*client_, 0, hall_start);
  auto b = wait_for_any(*client_, 0, annex_start);
  ASSERT_TRUE(a && b) << describe(*client_);
  EXPECT_NE(as_json(a->payload)->at("unique_id"), as_json(b->payload)->at("unique_id"));
  EXPECT_EQ(as_json(b->payload)->at("command_topic"), "daycare/annex/nursery/routine/set");
  std::set<std::string> ids;
  std::size_t configs = 0;
  for (const auto& m : client_->received())
    if (m.topic.ends_with("/config") && !m.payload.empty()) {
      auto j = as_json(m.payload);
      ASSERT_TRUE(j);
      ids.insert(m.topic.substr(0, m.topic.find("/config")) + " " +
                 j->at("unique_id").get<std::string>());
      ++configs;
    }
  std::set<std::string> unique;
  for (const auto& entry : ids) unique.insert(entry.substr(entry.find(' ') + 1));
  EXPECT_EQ(unique.size(), ids.size()) << "a unique_id used by two discovery topics";
}

class MqttCredentials : public ::testing::Test {
 protected:
  static BrokerConfig only_nurseryd() {
    BrokerConfig c;
    c.users.push_back({"nurseryd", "right"});
    c.allow_anonymous = false;
    return c;
  }
  Mosquitto broker_{only_nurseryd()};
  TestHome home_;
  DaemonProcess daemon_{home_};
};

TEST_F(MqttCredentials, RefusedCredentialsAreLoggedClearlyAndRetriedWithoutACrash) {
  ASSERT_TRUE(broker_.start());
  home_.write_config(with_mqtt(still_hub(), broker_, "nursery",
                               "username = \"nurseryd\"\npassword = \"wrong\"\n"));
  ASSERT_TRUE(daemon_.start_and_wait());
  ASSERT_TRUE(daemon_.wait_for_log("not authorised", kDeadline));
  // Retried with backoff: the refusal comes again, and the hub runs on.
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  auto refusals = [&] {
    std::size_t n = 0;
    const auto log = daemon_.log();
    for (auto at = log.find("not authorised"); at != std::string::npos;
         at = log.find("not authorised", at + 1))
      ++n;
    return n;
  };
  // Polled: the log is a file the daemon appends to.
  while (refusals() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_GE(refusals(), 2u) << daemon_.log();
  EXPECT_TRUE(daemon_.running());
  EXPECT_EQ(routine_request(daemon_, "start").status, 200);
}

}  // namespace
}  // namespace nursery::it
