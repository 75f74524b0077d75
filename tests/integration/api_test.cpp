// The control API of the real daemon: bad requests are refused with a JSON
// error and change nothing; valid values beyond a safety limit are clamped
// and the clamp reported; a device set by hand is held until the next step.

#include <gtest/gtest.h>

#include <thread>

#include "daemon_process.hpp"

namespace nursery::it {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// A bedtime whose only change after the start is an hour away, with devices
// that fade by themselves: nothing in the status moves while a test runs.
HubSpec still_hub() {
  HubSpec spec;
  spec.routines = {{"bedtime",
                    "bedtime",
                    {{0, "light", {"on = true", "brightness = 0.05", "color_temp = 2200"}},
                     {0, "sound", {"on = true", "volume = 0.3", "track = \"white-noise\""}},
                     {3600, "light", {"on = false"}}}}};
  return spec;
}

// Everything a request could change: the status (less the clock) and the runs.
json snapshot(DaemonProcess& daemon) {
  json status = status_of(daemon);
  if (status.contains("hub")) status["hub"].erase("now");
  return json{{"status", status}, {"runs", runs_of(daemon)}};
}

struct BadRequest {
  std::string what;
  std::string method;
  std::string target;
  std::string body;
  int status;
  std::string code;
};

void expect_refused_without_change(DaemonProcess& daemon, const std::vector<BadRequest>& requests) {
  for (const auto& r : requests) {
    SCOPED_TRACE(r.what);
    const json before = snapshot(daemon);
    auto response = api_raw(daemon, r.method, r.target, r.body);
    EXPECT_EQ(response.status, r.status) << response.body.dump();
    ASSERT_TRUE(response.body.is_object() && response.body.contains("error"))
        << "expected {\"error\":{...}}, got " << response.body.dump();
    const json& error = response.body["error"];
    EXPECT_EQ(error.value("code", ""), r.code) << response.body.dump();
    ASSERT_TRUE(error.contains("message") && error["message"].is_string()) << error.dump();
    EXPECT_FALSE(error["message"].get<std::string>().empty());
    EXPECT_EQ(snapshot(daemon), before) << "a refused request changed the hub's state";
  }
}

const std::string kLight = "/api/v1/rooms/nursery/devices/night-light";
const std::string kSound = "/api/v1/rooms/nursery/devices/sound";
const std::string kRoutine = "/api/v1/rooms/nursery/routine";

const json* clamp_of(const json& result, std::string_view field) {
  if (!result.contains("clamped")) return nullptr;
  for (const auto& c : result["clamped"])
    if (c.value("field", "") == field) return &c;
  return nullptr;
}

TEST(ControlApi, RefusesMalformedAndOutOfRangeRequestsWithAJsonErrorAndNoChange) {
  TestHome home;
  home.write_config(still_hub());
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());

  const std::vector<BadRequest> any_time = {
      {"brightness above 1", "POST", kLight, R"({"brightness": 1.5})", 400, "invalid_value"},
      {"negative volume", "POST", kSound, R"({"volume": -3})", 400, "invalid_value"},
      {"brightness as a word", "POST", kLight, R"({"brightness": "high"})", 400, "invalid_value"},
      {"unknown device", "POST", "/api/v1/rooms/nursery/devices/toaster", R"({"on": true})", 404,
       "unknown_device"},
      {"unknown room", "POST", "/api/v1/rooms/attic/devices/night-light", R"({"on": true})", 404,
       "unknown_room"},
      {"invalid JSON", "POST", kLight, R"({"on": tru)", 400, "invalid_json"},
      {"unknown action", "POST", kRoutine, R"({"action": "dance"})", 400, "invalid_request"},
      {"unknown routine", "POST", kRoutine, R"({"action": "start", "routine": "nap"})", 404,
       "unknown_routine"},
      {"a volume for a light", "POST", kLight, R"({"volume": 0.2})", 400, "unsupported_value"},
  };
  expect_refused_without_change(daemon, any_time);
  expect_refused_without_change(daemon, {{"pause when idle", "POST", kRoutine,
                                          R"({"action": "pause"})", 409, "not_running"}});

  auto started = routine_request(daemon, "start");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  expect_refused_without_change(daemon, any_time);
  expect_refused_without_change(daemon, {{"start while running", "POST", kRoutine,
                                          R"({"action": "start"})", 409, "routine_running"}});
}

TEST(ControlApi, ClampsTheSoundVolumeToItsLimitAndSaysSo) {
  TestHome home;
  home.write_config(still_hub());
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());

  auto r = api(daemon, "POST", kSound, json{{"on", true}, {"volume", 0.9}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_DOUBLE_EQ(r.body["requested"]["volume"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(r.body["applied"]["volume"].get<double>(), 0.5);
  const json* clamp = clamp_of(r.body, "volume");
  ASSERT_TRUE(clamp) << r.body.dump();
  EXPECT_FALSE(clamp->value("reason", "").empty()) << clamp->dump();
  EXPECT_DOUBLE_EQ(device_in(status_of(daemon), "sound")["state"]["volume"].get<double>(), 0.5);
}

TEST(ControlApi, ClampsABrightCoolLightAtNightButNotByDay) {
  TestHome home;
  home.write_config(still_hub());
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());

  // Before any bedtime: no night limits.
  auto day =
      api(daemon, "POST", kLight, json{{"on", true}, {"brightness", 0.8}, {"color_temp", 4000}});
  ASSERT_EQ(day.status, 200) << day.body.dump();
  EXPECT_DOUBLE_EQ(day.body["applied"]["brightness"].get<double>(), 0.8);
  EXPECT_TRUE(day.body["clamped"].empty()) << day.body.dump();

  auto started = routine_request(daemon, "start", "bedtime");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  EXPECT_EQ(status_of(daemon)["rooms"][0]["night"], true);

  auto night = api(daemon, "POST", kLight, json{{"brightness", 0.8}, {"color_temp", 4000}});
  ASSERT_EQ(night.status, 200) << night.body.dump();
  EXPECT_DOUBLE_EQ(night.body["applied"]["brightness"].get<double>(), 0.1);
  EXPECT_EQ(night.body["applied"]["color_temp"], 2200);
  EXPECT_TRUE(clamp_of(night.body, "brightness")) << night.body.dump();
  EXPECT_TRUE(clamp_of(night.body, "color_temp")) << night.body.dump();
}

TEST(ControlApi, AManualCommandHoldsTheDeviceUntilTheNextStep) {
  TestHome home;
  HubSpec spec;
  spec.routines = {{"steps",
                    "other",
                    {{0, "light", {"on = true", "brightness = 0.3"}},
                     {0, "sound", {"on = true", "volume = 0.2"}},
                     {2, "light", {"brightness = 0.5"}},
                     {4, "light", {"brightness = 0.7"}}}}};
  home.write_config(spec);
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start_and_wait());
  auto started = routine_request(daemon, "start");
  ASSERT_EQ(started.status, 200) << started.body.dump();
  const auto t0 = Clock::now();
  const int first_index = started.body["routine"]["step_index"].get<int>();  // two steps at 0 s

  std::this_thread::sleep_for(300ms);
  auto set = api(daemon, "POST", kLight, json{{"brightness", 0.2}});
  ASSERT_EQ(set.status, 200) << set.body.dump();
  auto held = status_of(daemon);
  EXPECT_EQ(device_in(held, "night-light")["overridden"], true) << held.dump();
  EXPECT_EQ(device_in(held, "sound")["overridden"], false) << held.dump();

  // While the routine is still at its first steps, the light stays where the
  // parent put it; the next light step (at 2 s) takes it back. Checked on
  // every status seen, whenever the machine lets the test look: no time
  // window is assumed. The status computes the step from the clock and the
  // step's own wake-up may come a moment later, so a short overlap is
  // allowed — generously, for a loaded machine — a lasting one is not.
  json released;
  std::optional<Clock::time_point> next_step_seen;
  const auto deadline = t0 + 30s;
  while (Clock::now() < deadline) {
    json s = status_of(daemon);
    if (device_in(s, "night-light")["overridden"] == false) {
      released = s;
      break;
    }
    if (room_routine(s)["step_index"] == first_index) {
      EXPECT_DOUBLE_EQ(device_in(s, "night-light")["state"]["brightness"].get<double>(), 0.2)
          << s.dump();
    } else if (!next_step_seen) {
      next_step_seen = Clock::now();
    }
    ASSERT_FALSE(next_step_seen && Clock::now() - *next_step_seen > 10s)
        << "the next step began but the light is still held: " << s.dump();
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(released.is_null()) << "the light was never released\n" << daemon.log();
  EXPECT_GT(room_routine(released)["step_index"].get<int>(), first_index) << released.dump();
  EXPECT_DOUBLE_EQ(device_in(released, "night-light")["state"]["brightness"].get<double>(), 0.5)
      << released.dump();
}

}  // namespace
}  // namespace nursery::it
