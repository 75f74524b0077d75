// Whole routines in virtual time, through the real hub, the real simulated
// plugin and a real (in-memory) SQLite store.
#include "daemon/hub.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/loader.hpp"
#include "daemon/store/store.hpp"
#include "plugins/registry.hpp"
#include "plugins/simulated/simulated.hpp"

namespace nursery {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;
using plugins::simulated::SimulatedDevice;

// 19:00 London time (UTC in November) on a Thursday.
const TimePoint kEvening = time_point_cast<milliseconds>(sys_days{year{2026} / 11 / 26} + 19h);

std::string example_config_text() {
  std::ifstream in(NURSERY_SOURCE_DIR "/config/nurseryd.toml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

config::Config load(const std::string& text) {
  auto r = config::load_string(text, "test.toml", plugins::catalog());
  for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
  return *r.config;
}

class HubTest : public ::testing::Test {
 protected:
  void start(const std::string& text = example_config_text()) {
    if (!store_) store_ = std::move(*SqliteStore::open(":memory:"));
    auto hub = Hub::create(load(text), clock_, *store_, sink_, plugins::create_device);
    ASSERT_TRUE(hub) << hub.error().message;
    hub_ = std::move(*hub);
    hub_->recover();
  }
  SimulatedDevice& sim(std::string_view id) {
    return dynamic_cast<SimulatedDevice&>(*hub_->device(id));
  }
  RoutineStatus routine() { return hub_->status().rooms.at(0).routine; }
  Expected<RoutineStatus> act(RoutineAction a, std::optional<std::string> routine = {}) {
    return hub_->routine("nursery", RoutineRequest{a, std::move(routine)});
  }
  std::vector<EventRecord> events(std::string_view kind) {
    std::vector<EventRecord> out;
    auto all = store_->recent_events(1000);
    for (auto& e : *all)
      if (e.kind == kind) out.push_back(e);
    return out;
  }

  ManualClock clock_{kEvening};
  MemorySink sink_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Hub> hub_;
};

TEST_F(HubTest, PlaysTheWholeBedtimeRoutineAndStoresTheRun) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  EXPECT_EQ(routine().state, RoutineState::Running);
  EXPECT_EQ(routine().ends_at, kEvening + 45min);

  clock_.advance(6min);
  EXPECT_EQ(sim("massager").state().on, true);
  EXPECT_DOUBLE_EQ(*sim("massager").state().intensity, 0.3);
  EXPECT_DOUBLE_EQ(*sim("night-light").state().brightness, 0.10);
  EXPECT_DOUBLE_EQ(*sim("sound").state().volume, 0.3);

  clock_.advance(40min);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(sim("night-light").state().on, false);
  EXPECT_EQ(sim("massager").state().on, false);
  EXPECT_EQ(sim("sound").state().on, true);  // white noise plays on through the night
  auto runs = *hub_->runs({.limit = 10});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].outcome, Outcome::Completed);
  EXPECT_EQ(runs[0].ended_at, kEvening + 45min);
  EXPECT_TRUE(events("clamp").empty()) << "the example routine stays inside the limits";
}

TEST_F(HubTest, AWholeNightInVirtualTimeEndsWithTheSoundSwitchedOffByItsAutoOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(11h);
  EXPECT_EQ(sim("sound").state().on, true);
  clock_.advance(2h);  // past 12 h after the sound started
  EXPECT_EQ(sim("sound").state().on, false);
  auto offs = events("auto_off");
  EXPECT_EQ(std::count_if(offs.begin(), offs.end(), [](auto& e) { return e.device == "sound"; }), 1);
  EXPECT_EQ(clock_.pending(), 0u) << "an idle hub leaves no timer behind";
}

TEST_F(HubTest, SendsEachDeviceOnlyWhatChanged) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(50min);
  // The sound machine: on once. The massager: on, one faded rise, off (by
  // its session limit, at the moment the routine would have done it).
  EXPECT_EQ(sim("sound").commands_received(), 1u);
  EXPECT_EQ(sim("massager").commands_received(), 3u);
  // The night light has no native fade: software steps of 1 %, no more.
  // Up 0->10 % (10), down 10->2 % (8), down 2->0 % and off (2), plus the first.
  EXPECT_LE(sim("night-light").commands_received(), 22u);
  EXPECT_GE(sim("night-light").commands_received(), 15u);
}

TEST_F(HubTest, GivesANativeFadeTheTargetAndTheRemainingTimeInOneCommand) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(11min);  // 1 minute into the massager's 2-minute rise
  EXPECT_DOUBLE_EQ(*sim("massager").state().intensity, 0.45);
  EXPECT_EQ(sim("massager").commands_received(), 2u);
}

TEST_F(HubTest, PauseFreezesTheRoutineAndResumeGoesOnWhereItWas) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(26min);  // 1 min into the light's 10-minute dimming
  ASSERT_TRUE(act(RoutineAction::Pause));
  const double frozen = *sim("night-light").state().brightness;
  const int step = routine().step_index;
  EXPECT_EQ(routine().state, RoutineState::Paused);
  EXPECT_FALSE(routine().ends_at);
  clock_.advance(30min);
  EXPECT_DOUBLE_EQ(*sim("night-light").state().brightness, frozen);
  EXPECT_EQ(routine().step_index, step);
  ASSERT_TRUE(act(RoutineAction::Resume));
  EXPECT_EQ(routine().ends_at, kEvening + 45min + 30min);
  EXPECT_FALSE(act(RoutineAction::Resume)) << "resuming a running routine is refused";
  clock_.advance(20min);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(sim("night-light").state().on, false);
}

TEST_F(HubTest, SkipJumpsToTheNextStep) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(1min);
  ASSERT_TRUE(act(RoutineAction::Skip));
  EXPECT_EQ(routine().step_index, 2);  // the massage step at 5 min
  EXPECT_EQ(sim("massager").state().on, true);
  EXPECT_EQ(routine().ends_at, clock_.now() + 40min);
}

TEST_F(HubTest, StopEndsTheRunAsStoppedAndSwitchesTheMassagerOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(7min);
  ASSERT_EQ(sim("massager").state().on, true);
  ASSERT_TRUE(act(RoutineAction::Stop));
  EXPECT_EQ(sim("massager").state().on, false);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ((*hub_->runs({.limit = 1}))[0].outcome, Outcome::Stopped);
  EXPECT_FALSE(act(RoutineAction::Stop)) << "stopping an idle room is refused";
}

TEST_F(HubTest, StartingWhileRunningIsRefusedAndChangesNothing) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  auto second = act(RoutineAction::Start, "sunrise");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().http_status, 409);
  EXPECT_EQ(routine().routine, "bedtime");
  EXPECT_EQ(hub_->runs({.limit = 10})->size(), 1u);
}

TEST_F(HubTest, AChangeByHandHoldsTheDeviceUntilTheNextStep) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(26min);  // the light is dimming in software
  DeviceValues by_hand;
  by_hand.brightness = 0.05;
  sim("night-light").change_by_hand(by_hand);
  const auto sent = sim("night-light").commands_received();
  clock_.advance(10min);  // the rest of the dimming step: left alone
  EXPECT_EQ(sim("night-light").commands_received(), sent);
  EXPECT_DOUBLE_EQ(*sim("night-light").state().brightness, 0.05);
  EXPECT_TRUE(hub_->status().rooms[0].devices[0].overridden);
  EXPECT_EQ(events("override").size(), 1u);
  clock_.advance(5min);  // the lights-out step takes it back
  EXPECT_FALSE(hub_->status().rooms[0].devices[0].overridden);
  EXPECT_GT(sim("night-light").commands_received(), sent);
  clock_.advance(5min);
  EXPECT_EQ(sim("night-light").state().on, false);
}

TEST_F(HubTest, AManualCommandIsClampedReportedAndHoldsTheDevice) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(3min);
  DeviceCommand c;
  c.values.brightness = 0.8;
  c.values.color_temp = 4000;
  auto r = hub_->set_device("nursery", "night-light", c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_DOUBLE_EQ(*r->applied.brightness, 0.10);
  EXPECT_EQ(r->applied.color_temp, 2200);
  EXPECT_EQ(r->clamps.size(), 2u);
  EXPECT_EQ(events("clamp").size(), 1u);
  EXPECT_TRUE(hub_->status().rooms[0].devices[0].overridden);
}

TEST_F(HubTest, RefusedManualCommandsChangeNothing) {
  start();
  DeviceCommand volume;
  volume.values.volume = 0.3;
  auto r = hub_->set_device("nursery", "night-light", volume);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unsupported_value");
  EXPECT_EQ(hub_->set_device("attic", "night-light", volume).error().http_status, 404);
  EXPECT_EQ(hub_->set_device("nursery", "lamp", volume).error().http_status, 404);
  EXPECT_EQ(sim("night-light").commands_received(), 0u);
  EXPECT_TRUE(store_->recent_events(10)->empty());
}

TEST_F(HubTest, ResumesAfterACrashWhereTheRoutineWouldBeNow) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(7min);
  hub_.reset();  // the process dies: no shutdown, the run stays open
  clock_.advance(4min);
  start();
  EXPECT_EQ(routine().state, RoutineState::Running);
  EXPECT_EQ(routine().started_at, kEvening);
  EXPECT_EQ(routine().step_index, 3);  // the massager's rise at 10 min
  EXPECT_EQ(sim("massager").state().on, true);
  EXPECT_DOUBLE_EQ(*sim("night-light").state().brightness, 0.10);
  EXPECT_EQ(hub_->runs({.limit = 10})->size(), 1u);
  clock_.advance(40min);
  EXPECT_EQ((*hub_->runs({.limit = 1}))[0].outcome, Outcome::Completed);
}

TEST_F(HubTest, ClosesARunThatWouldHaveEndedWhileTheHubWasDownAsInterrupted) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(7min);
  hub_.reset();
  clock_.advance(2h);
  start();
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ((*hub_->runs({.limit = 1}))[0].outcome, Outcome::Interrupted);
}

TEST_F(HubTest, NeverRestartsAMassageWhoseSessionWindowHasPassed) {
  // A routine that asks for a long massage: the session limit (15 min for
  // this child) ends it, and a restart after that does not bring it back.
  std::string text = example_config_text();
  text += R"(
[[routines]]
id = "long-massage"
kind = "bedtime"
  [[routines.steps]]
  at = "0s"
  role = "massager"
  on = true
  intensity = 0.3
  [[routines.steps]]
  at = "40m"
  role = "massager"
  on = false
)";
  start(text);
  ASSERT_TRUE(act(RoutineAction::Start, "long-massage"));
  clock_.advance(16min);
  EXPECT_EQ(sim("massager").state().on, false);
  EXPECT_EQ(events("auto_off").size(), 1u);
  hub_.reset();
  clock_.advance(1min);
  start(text);
  EXPECT_EQ(routine().state, RoutineState::Running);
  EXPECT_EQ(sim("massager").state().on, false);
  auto clamps = events("clamp");
  ASSERT_EQ(clamps.size(), 1u);
  EXPECT_EQ(clamps[0].device, "massager");
  EXPECT_NE(clamps[0].detail.find("session"), std::string::npos) << clamps[0].detail;
}

TEST_F(HubTest, ShutdownLeavesTheMassagerOffAndTheRunOpen) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  hub_->shutdown();
  EXPECT_EQ(sim("massager").state().on, false);
  EXPECT_FALSE((*hub_->runs({.limit = 1}))[0].outcome);
}

TEST_F(HubTest, NightLimitsLastFromBedtimeUntilTheWakeRoutine) {
  start();
  EXPECT_FALSE(hub_->status().rooms[0].night);
  ASSERT_TRUE(act(RoutineAction::Start));
  EXPECT_TRUE(hub_->status().rooms[0].night);
  clock_.advance(10h);
  ASSERT_TRUE(act(RoutineAction::Start, "sunrise"));
  EXPECT_FALSE(hub_->status().rooms[0].night);
  clock_.advance(31min);
  EXPECT_DOUBLE_EQ(*sim("night-light").state().brightness, 0.6);
  EXPECT_EQ(sim("night-light").state().color_temp, 4000);
}

TEST_F(HubTest, AnUnreachableDeviceIsShownAndCaughtUpWhenItReturns) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  sim("sound").set_reachable(false);
  EXPECT_FALSE(hub_->status().rooms[0].devices[1].available);
  DeviceCommand c;
  c.values.volume = 0.2;
  EXPECT_EQ(hub_->set_device("nursery", "sound", c).error().http_status, 503);
  sim("sound").set_reachable(true);
  EXPECT_TRUE(hub_->status().rooms[0].devices[1].available);
}

TEST_F(HubTest, AReloadDuringAMassageLetsItGoOnUninterrupted) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  const auto were_on = hub_->release();
  EXPECT_EQ(were_on, std::vector<std::string>{"massager"});
  EXPECT_EQ(sim("massager").state().on, true) << "letting go sends nothing";
  hub_.reset();
  start();  // the reloaded config: the same routine goes on
  hub_->settle_massagers(were_on);
  EXPECT_EQ(sim("massager").state().on, true);
  EXPECT_EQ(sim("massager").commands_received(), 1u) << "on, and never off in between";
  clock_.advance(15min);
  EXPECT_EQ(sim("massager").state().on, false);
}

TEST_F(HubTest, AReloadThatNoLongerKeepsAMassageOnSwitchesItOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  const auto were_on = hub_->release();
  hub_.reset();
  std::string text = example_config_text();
  // The new config renames the routine: the open run cannot be resumed.
  for (auto at = text.find("id = \"bedtime\""); at != std::string::npos;
       at = text.find("id = \"bedtime\"", at + 1))
    text.replace(at, 14, "id = \"evening\"");
  auto at = text.find("default_routine = \"bedtime\"");
  text.replace(at, 27, "default_routine = \"evening\"");
  start(text);
  hub_->settle_massagers(were_on);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(sim("massager").state().on, false);
  EXPECT_EQ(sim("massager").commands_received(), 1u);
}

TEST_F(HubTest, ShowsEachDevicesStateBeforeAnyRoutineRuns) {
  start();
  const HubStatus status = hub_->status();
  ASSERT_EQ(status.rooms[0].devices.size(), 3u);
  for (const auto& d : status.rooms[0].devices) EXPECT_EQ(d.state.on, false) << d.id;
}

}  // namespace
}  // namespace nursery
