// Schedules on the real daemon: the schedules, next and sun routes, their
// refusals (which change nothing), the import of [[rooms.schedules]], a
// scheduled bedtime that starts by itself, and nurseryctl schedule / next.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "daemon_process.hpp"

namespace nursery::it {
namespace {

using nlohmann::json;

HubSpec hub_in(std::string zone) {
  HubSpec spec;
  spec.time_zone = std::move(zone);
  spec.routines = {{"bedtime",
                    "bedtime",
                    {{0, "light", {"on = true", "brightness = 0.05", "color_temp = 2200"}},
                     {3600, "light", {"on = false"}}}}};
  return spec;
}

// The spec's TOML at a location.
std::string at_location(const HubSpec& spec, double latitude, double longitude) {
  std::string text = to_toml(spec);
  const std::string zone_line = "time_zone = \"" + spec.time_zone + "\"\n";
  text.replace(text.find(zone_line), zone_line.size(),
               zone_line + "latitude = " + std::to_string(latitude) +
                   "\nlongitude = " + std::to_string(longitude) + "\n");
  return text;
}

const json kWeeknights = {{"id", "weeknights"},
                          {"routine", "bedtime"},
                          {"days", {"mon", "tue", "wed", "thu", "fri"}},
                          {"at", "19:30"}};
const json kDusk = {{"id", "dusk"},    {"routine", "bedtime"}, {"days", {"sat", "sun"}},
                    {"sun", "sunset"}, {"offset", "-30m"},     {"not_before", "18:30"}};

class Schedules : public ::testing::Test {
 protected:
  void start(const std::string& toml) {
    home_.write_config(toml);
    ASSERT_TRUE(daemon_.start_and_wait());
  }
  json schedules() {
    auto r = api(daemon_, "GET", "/api/v1/rooms/nursery/schedules");
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body;
  }
  ProgramResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv{nurseryctl_path().string(), "--socket", home_.socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, home_.dir());
  }

  TestHome home_;
  DaemonProcess daemon_{home_};
};

TEST_F(Schedules, APutListIsWhatGetShowsWithEveryDefaultSpelledOut) {
  start(at_location(hub_in("Europe/Berlin"), 52.52, 13.405));
  EXPECT_EQ(schedules(), json({{"schedules", json::array()}}));
  auto put = api(daemon_, "PUT", "/api/v1/rooms/nursery/schedules",
                 json{{"schedules", {kWeeknights, kDusk}}});
  ASSERT_EQ(put.status, 200) << put.body.dump();
  json expected = {{"schedules", {kWeeknights, kDusk}}};
  for (auto& s : expected["schedules"]) {
    s["grace"] = "15m";
    s["enabled"] = true;
  }
  EXPECT_EQ(put.body, expected);
  EXPECT_EQ(schedules(), expected);
}

TEST_F(Schedules, NextListsTheTriggersAfterFromInLocalTimeAcrossTheSpringChange) {
  start(at_location(hub_in("Europe/Berlin"), 52.52, 13.405));
  ASSERT_EQ(api(daemon_, "PUT", "/api/v1/rooms/nursery/schedules",
                json{{"schedules", {kWeeknights, kDusk}}})
                .status,
            200);
  // Friday 2027-03-26; Berlin moves to summer time on Sunday the 28th.
  auto r = api(daemon_, "GET", "/api/v1/rooms/nursery/next?from=2027-03-26T12:00:00Z&count=4");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const json& t = r.body["triggers"];
  ASSERT_EQ(t.size(), 4u) << r.body.dump();
  EXPECT_EQ(t[0], json({{"at", "2027-03-26T18:30:00Z"},
                        {"local", "2027-03-26T19:30:00+01:00"},
                        {"routine", "bedtime"},
                        {"schedule", "weeknights"},
                        {"reason", "clock 19:30"}}));
  EXPECT_EQ(t[1]["schedule"], "dusk");
  // Sunset -30m is before 18:30 in March: the trigger is clamped to its bound.
  EXPECT_EQ(t[1]["local"], "2027-03-27T18:30:00+01:00");
  EXPECT_EQ(t[1]["reason"], "not_before bound: sunset -30m is 18:01");
  EXPECT_TRUE(t[2]["local"].get<std::string>().ends_with("+02:00")) << t[2].dump();
  EXPECT_EQ(t[3]["at"], "2027-03-29T17:30:00Z") << "19:30 in summer time";
}

TEST_F(Schedules, SunGivesTheDaysEventsInUtc) {
  start(at_location(hub_in("Europe/Berlin"), 52.52, 13.405));
  auto r = api(daemon_, "GET", "/api/v1/sun?date=2027-06-21");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["date"], "2027-06-21");
  // Berlin at midsummer: sunrise 04:43, sunset 21:33 CEST (almanac).
  auto near = [&](const char* key, const char* iso) {
    auto got = parse_utc(r.body.value(key, ""));
    auto want = parse_utc(iso);
    ASSERT_TRUE(got && want) << r.body.dump();
    EXPECT_LE(std::chrono::abs(*got - *want), std::chrono::minutes(2)) << key << r.body.dump();
  };
  near("sunrise", "2027-06-21T02:43:00Z");
  near("sunset", "2027-06-21T19:33:00Z");
  EXPECT_TRUE(r.body["civil_dawn"].is_string());
  EXPECT_TRUE(r.body["civil_dusk"].is_string());
}

TEST_F(Schedules, SunIsNullWhereTheEventDoesNotHappen) {
  start(at_location(hub_in("Arctic/Longyearbyen"), 78.22, 15.65));
  auto r = api(daemon_, "GET", "/api/v1/sun?date=2027-06-21");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_TRUE(r.body["sunrise"].is_null()) << r.body.dump();
  EXPECT_TRUE(r.body["sunset"].is_null()) << r.body.dump();
  auto dusk = api(daemon_, "PUT", "/api/v1/rooms/nursery/schedules",
                  json{{"schedules",
                        {{{"id", "dusk"},
                          {"routine", "bedtime"},
                          {"days", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
                          {"sun", "sunset"},
                          {"not_after", "20:00"}}}}});
  ASSERT_EQ(dusk.status, 200) << dusk.body.dump();
  auto next = api(daemon_, "GET", "/api/v1/rooms/nursery/next?from=2027-06-21T00:00:00Z&count=1");
  ASSERT_EQ(next.status, 200) << next.body.dump();
  EXPECT_EQ(next.body["triggers"][0]["local"], "2027-06-21T20:00:00+02:00");
  EXPECT_TRUE(next.body["triggers"][0]["reason"].get<std::string>().starts_with(
      "not_after bound: no sunset"))
      << next.body.dump();
}

TEST_F(Schedules, BadInputIsA4xxWithAJsonErrorAndChangesNothing) {
  start(at_location(hub_in("Europe/Berlin"), 52.52, 13.405));
  ASSERT_EQ(
      api(daemon_, "PUT", "/api/v1/rooms/nursery/schedules", json{{"schedules", {kWeeknights}}})
          .status,
      200);
  const json before = schedules();
  auto with = [](json s, const char* key, json value) {
    if (value.is_null())
      s.erase(key);
    else
      s[key] = std::move(value);
    return json{{"schedules", {s}}}.dump();
  };
  struct Bad {
    std::string what, method, target, body;
    int status;
    std::string code;
  };
  const std::string put = "/api/v1/rooms/nursery/schedules";
  const std::vector<Bad> bad = {
      {"at 25:61", "PUT", put, with(kWeeknights, "at", "25:61"), 400, "invalid_value"},
      {"an unknown weekday", "PUT", put, with(kWeeknights, "days", {"mon", "funday"}), 400,
       "invalid_value"},
      {"an offset of -30x", "PUT", put, with(kDusk, "offset", "-30x"), 400, "invalid_value"},
      {"neither time nor sun", "PUT", put, with(kWeeknights, "at", nullptr), 400, "missing_field"},
      {"an unknown routine", "PUT", put, with(kWeeknights, "routine", "nap"), 400,
       "unknown_routine"},
      {"an unknown key", "PUT", put, with(kWeeknights, "colour", "blue"), 400, "unknown_field"},
      {"not JSON", "PUT", put, "{\"schedules\":", 400, "invalid_json"},
      {"an unknown room", "PUT", "/api/v1/rooms/attic/schedules",
       json{{"schedules", {kWeeknights}}}.dump(), 404, "unknown_room"},
      {"next in an unknown room", "GET", "/api/v1/rooms/attic/next", "", 404, "unknown_room"},
      {"count=100000", "GET", "/api/v1/rooms/nursery/next?count=100000", "", 400,
       "invalid_request"},
      {"count=0", "GET", "/api/v1/rooms/nursery/next?count=0", "", 400, "invalid_request"},
      {"from without a zone", "GET", "/api/v1/rooms/nursery/next?from=2027-03-28T19:30:00", "", 400,
       "invalid_request"},
      {"an unknown parameter", "GET", "/api/v1/rooms/nursery/next?when=soon", "", 400,
       "invalid_request"},
      {"no such date", "GET", "/api/v1/sun?date=2027-02-30", "", 400, "invalid_request"},
      {"POST to schedules", "POST", put, json{{"schedules", json::array()}}.dump(), 405,
       "method_not_allowed"},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.what);
    auto r = api_raw(daemon_, b.method, b.target, b.body);
    EXPECT_EQ(r.status, b.status) << r.body.dump();
    ASSERT_TRUE(r.body.is_object() && r.body.contains("error")) << r.body.dump();
    EXPECT_EQ(r.body["error"].value("code", ""), b.code) << r.body.dump();
    EXPECT_FALSE(r.body["error"].value("message", "").empty());
    EXPECT_EQ(schedules(), before);
  }
  EXPECT_TRUE(daemon_.running());
}

TEST_F(Schedules, ConfigSchedulesAreImportedOnceAndAChangedListSurvivesARestart) {
  start(to_toml(hub_in("UTC")) +
        "\n[[rooms.schedules]]\nid = \"weeknights\"\nroutine = \"bedtime\"\n"
        "days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nat = \"19:30\"\n");
  ASSERT_EQ(schedules()["schedules"].size(), 1u) << schedules().dump();
  ASSERT_EQ(
      api(daemon_, "PUT", "/api/v1/rooms/nursery/schedules", json{{"schedules", json::array()}})
          .status,
      200);
  ASSERT_TRUE(daemon_.signal(SIGTERM));
  ASSERT_TRUE(daemon_.wait_exit());
  ASSERT_TRUE(daemon_.start_and_wait());
  EXPECT_EQ(schedules(), json({{"schedules", json::array()}}));
}

TEST_F(Schedules, AScheduledBedtimeStartsByItselfAndTheStatusShowedItComing) {
  home_.write_config(hub_in("UTC"));
  // An hour of hub time passes in a minute: the trigger two hub minutes ahead
  // comes within seconds.
  ASSERT_TRUE(daemon_.start_and_wait(DaemonOptions{{"--time-scale", "60"}, {}, false}));
  auto now = parse_utc(status_of(daemon_)["hub"]["now"].get<std::string>());
  ASSERT_TRUE(now);
  const auto minute = std::chrono::duration_cast<std::chrono::minutes>(*now).count() + 2;
  const std::string at = fmt::format("{:02}:{:02}", (minute / 60) % 24, minute % 60);
  auto put = api(daemon_, "PUT", "/api/v1/rooms/nursery/schedules",
                 json{{"schedules",
                       {{{"id", "soon"},
                         {"routine", "bedtime"},
                         {"days", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}},
                         {"at", at}}}}});
  ASSERT_EQ(put.status, 200) << put.body.dump();
  const json next = status_of(daemon_)["rooms"][0]["next_trigger"];
  EXPECT_EQ(next.value("schedule", ""), "soon") << next.dump();
  EXPECT_EQ(next.value("reason", ""), "clock " + at) << next.dump();
  EXPECT_TRUE(daemon_.wait_for_log("schedule soon started bedtime", std::chrono::seconds(20)));
  EXPECT_EQ(room_routine(status_of(daemon_))["state"], "running");
}

TEST_F(Schedules, NurseryctlSetsListsDisablesAndShowsWhatComesNext) {
  start(at_location(hub_in("Europe/Berlin"), 52.52, 13.405));
  auto set = ctl({"schedule", "set", "weeknights", "routine=bedtime", "days=weekdays", "at=19:30"});
  ASSERT_EQ(set.code(), 0) << set.describe();
  EXPECT_NE(set.out.find("weeknights"), std::string::npos) << set.out;
  EXPECT_EQ(schedules()["schedules"][0]["days"], json({"mon", "tue", "wed", "thu", "fri"}));

  auto next = ctl({"next", "--count", "2", "--from", "2027-03-26T12:00:00Z"});
  ASSERT_EQ(next.code(), 0) << next.describe();
  EXPECT_NE(next.out.find("Fri 2027-03-26 19:30"), std::string::npos) << next.out;
  EXPECT_NE(next.out.find("Mon 2027-03-29 19:30"), std::string::npos) << next.out;
  EXPECT_NE(next.out.find("clock 19:30"), std::string::npos) << next.out;

  // Changing the trigger of an existing schedule keeps the rest.
  ASSERT_EQ(ctl({"schedule", "set", "weeknights", "sun=sunset", "offset=-30m"}).code(), 0);
  json s = schedules()["schedules"][0];
  EXPECT_EQ(s.value("sun", ""), "sunset") << s.dump();
  EXPECT_FALSE(s.contains("at")) << s.dump();
  EXPECT_EQ(s["days"], json({"mon", "tue", "wed", "thu", "fri"}));

  ASSERT_EQ(ctl({"schedule", "disable", "weeknights"}).code(), 0);
  auto list = ctl({"schedule", "list"});
  EXPECT_NE(list.out.find("disabled"), std::string::npos) << list.out;
  EXPECT_NE(ctl({"next"}).out.find("no schedule will start anything"), std::string::npos);
  ASSERT_EQ(ctl({"schedule", "enable", "weeknights"}).code(), 0);
  EXPECT_EQ(schedules()["schedules"][0]["enabled"], true);

  auto json_list = ctl({"--json", "schedule", "list"});
  ASSERT_EQ(json_list.code(), 0) << json_list.describe();
  EXPECT_EQ(json::parse(json_list.out), schedules());

  const json before = schedules();
  auto refused = ctl({"schedule", "set", "weeknights", "at=25:61"});
  EXPECT_EQ(refused.code(), 1) << refused.describe();
  EXPECT_NE(refused.err.find("25:61"), std::string::npos) << refused.err;
  EXPECT_EQ(ctl({"schedule", "enable", "nap"}).code(), 1);
  EXPECT_EQ(ctl({"next", "--count", "100000"}).code(), 1);
  EXPECT_EQ(ctl({"schedule", "bogus"}).code(), 2);
  EXPECT_EQ(ctl({"schedule", "set", "weeknights"}).code(), 2);
  EXPECT_EQ(schedules(), before);
}

}  // namespace
}  // namespace nursery::it
