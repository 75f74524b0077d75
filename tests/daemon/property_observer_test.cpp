// The property test's observer can fail: hand-made traces that breach each
// rule are reported, and the tolerances it allows are exactly the written ones.

#include "property_observer.hpp"

#include <gtest/gtest.h>

#include "hub_fixture.hpp"

namespace nursery::testing {
namespace {

using PC = PhysicalCause;

class ObserverTest : public ::testing::Test {
 protected:
  // The example config: the child is 12 weeks old at kEvening (15-minute
  // sessions); sound cap 50 %, massage 60 % starting at 30 %, night 10 % 2200 K.
  void SetUp() override { start(example_config_text()); }
  void start(const std::string& text) {
    obs.configure(load(text), t);
    obs.hub_started(t);
    for (const char* id : {"night-light", "sound", "massager"}) obs.heard(id, t, t);
  }
  void at(Duration d) { t = kEvening + d; }
  void cmd(const std::string& id, DeviceValues v) { obs.physical(id, v, PC::Command, t); }
  std::vector<std::string> rules() {
    obs.flush(t);
    std::vector<std::string> out;
    for (const auto& b : obs.breaches()) out.push_back(b.rule);
    return out;
  }
  static DeviceValues massager(bool on, int permille) {
    DeviceValues v;
    v.massager_on = on;
    v.intensity = Level::permille(permille);
    return v;
  }
  static DeviceValues sound(bool on, int permille) {
    DeviceValues v;
    v.sound_on = on;
    v.volume = Level::permille(permille);
    return v;
  }
  static DeviceValues light(bool on, int permille, int kelvin) {
    DeviceValues v;
    v.light_on = on;
    v.brightness = Level::permille(permille);
    v.color_temp = kelvin;
    return v;
  }

  PropertyObserver obs;
  TimePoint t = kEvening;
};

using Rules = std::vector<std::string>;

TEST_F(ObserverTest, ALimitKeptIsNoBreach) {
  cmd("sound", sound(true, 500));
  cmd("massager", massager(true, 300));
  at(5min);
  cmd("massager", massager(true, 600));
  at(15min);
  cmd("massager", massager(false, 600));
  at(11h);
  cmd("sound", sound(false, 500));
  EXPECT_EQ(rules(), Rules{});
}

TEST_F(ObserverTest, AVolumeAboveTheCapIsABreach) {
  cmd("sound", sound(true, 510));
  EXPECT_EQ(rules(), Rules{"volume"});
}

TEST_F(ObserverTest, AVolumeStagedWhileOffAboveTheCapIsABreach) {
  cmd("sound", sound(false, 900));
  EXPECT_EQ(rules(), Rules{"volume"});
}

TEST_F(ObserverTest, ASessionStartingAboveTheStartCapIsABreach) {
  cmd("massager", massager(true, 310));
  EXPECT_EQ(rules(), Rules{"massage_start_intensity"});
}

TEST_F(ObserverTest, ARunningSessionAboveTheIntensityCapIsABreach) {
  cmd("massager", massager(true, 300));
  at(1min);
  cmd("massager", massager(true, 700));
  EXPECT_EQ(rules(), Rules{"massage_intensity"});
}

TEST_F(ObserverTest, ASwitchOnInsideAnOpenSessionIsNotAStart) {
  cmd("massager", massager(true, 300));
  at(2min);
  cmd("massager", massager(false, 300));
  at(3min);
  cmd("massager", massager(true, 600));
  EXPECT_EQ(rules(), Rules{});
}

TEST_F(ObserverTest, AMassageLongerThanTheSessionForTheAgeIsABreach) {
  cmd("massager", massager(true, 300));
  at(15min + 1s);
  EXPECT_EQ(rules(), (Rules{"massage_session", "massage_rolling_hour"}));
}

TEST_F(ObserverTest, SessionsThatChainBeyondTheRollingHourAreABreach) {
  cmd("massager", massager(true, 300));
  at(14min);
  cmd("massager", massager(false, 300));
  at(16min);  // the session's window is over: this is a new session
  cmd("massager", massager(true, 300));
  at(18min);
  EXPECT_EQ(rules(), Rules{"massage_rolling_hour"});
}

TEST_F(ObserverTest, ASoundOnLongerThanItsAutoOffIsABreach) {
  cmd("sound", sound(true, 300));
  at(12h + 1s);
  EXPECT_EQ(rules(), Rules{"sound_auto_off"});
}

TEST_F(ObserverTest, ASoundOnPastTheWakeTimeIsABreach) {
  cmd("sound", sound(true, 300));
  obs.wake_time("nursery", kEvening + 10h, t);
  at(10h + 1s);
  EXPECT_EQ(rules(), Rules{"sound_auto_off"});
}

TEST_F(ObserverTest, ALightSwitchedOnBrightAtNightIsABreach) {
  obs.routine_started("nursery", config::RoutineKind::Bedtime, t);
  cmd("night-light", light(true, 500, 2200));
  EXPECT_EQ(rules(), Rules{"night_brightness"});
}

TEST_F(ObserverTest, ACoolLightStagedWhileOffAtNightIsABreach) {
  obs.routine_started("nursery", config::RoutineKind::Bedtime, t);
  cmd("night-light", light(false, 50, 4000));
  EXPECT_EQ(rules(), Rules{"night_color_temp"});
}

TEST_F(ObserverTest, TheNightEndsWithItsWindow) {
  obs.routine_started("nursery", config::RoutineKind::Bedtime, t);
  at(14h + 1min);
  cmd("night-light", light(true, 1000, 6500));
  EXPECT_EQ(rules(), Rules{});
}

TEST_F(ObserverTest, AWakeLightAboveItsCeilingIsABreach) {
  obs.routine_started("nursery", config::RoutineKind::Wake, t);
  cmd("night-light", light(true, 700, 4000));
  EXPECT_EQ(rules(), Rules{"wake_brightness"});
}

TEST_F(ObserverTest, ALightAlreadyOnAtBedtimeMustBeDimmedAtOnce) {
  cmd("night-light", light(true, 1000, 6500));
  obs.routine_started("nursery", config::RoutineKind::Bedtime, t);
  at(1s);
  EXPECT_EQ(rules(), (Rules{"night_brightness", "night_color_temp"}));
}

TEST_F(ObserverTest, AChangeByHandIsJudgedFromWhenTheHubHearsIt) {
  obs.physical("sound", sound(true, 1000), PC::ByHand, t);
  at(5s);  // its report is late
  obs.heard("sound", kEvening, t);
  cmd("sound", sound(true, 500));  // corrected at once
  at(10s);
  EXPECT_EQ(rules(), Rules{});
}

TEST_F(ObserverTest, AChangeByHandNotCorrectedIsABreach) {
  obs.physical("sound", sound(true, 1000), PC::ByHand, t);
  obs.heard("sound", t, t);
  at(1s);
  EXPECT_EQ(rules(), Rules{"volume"});
}

TEST_F(ObserverTest, AnUnreachableMassagerMustGoOffWhenItReturns) {
  cmd("massager", massager(true, 300));
  at(5min);
  obs.reachable("massager", false, t);
  at(40min);
  obs.reachable("massager", true, t);
  obs.heard("massager", t, t);
  at(40min + 1s);
  EXPECT_EQ(rules(), Rules{"massage_session"});
}

TEST_F(ObserverTest, AnUnreachableMassagerSwitchedOffOnReturnIsNoBreach) {
  cmd("massager", massager(true, 300));
  at(5min);
  obs.reachable("massager", false, t);
  at(40min);
  obs.reachable("massager", true, t);
  obs.heard("massager", t, t);
  cmd("massager", massager(false, 300));
  at(41min);
  EXPECT_EQ(rules(), Rules{});
}

TEST_F(ObserverTest, ASlowDeviceGetsItsLatencyAndNoMore) {
  start(
      with(example_config_text(), "kind = \"massager\"", "kind = \"massager\"\nlatency = \"2s\""));
  cmd("massager", massager(true, 300));
  at(15min + 2s);
  cmd("massager", massager(false, 300));  // the hub's off, 2 s on its way
  EXPECT_EQ(rules(), Rules{});
  cmd("massager", massager(true, 300));
  at(20min);
  cmd("massager", massager(false, 300));
  EXPECT_EQ(rules(), Rules{"massage_rolling_hour"});
}

TEST_F(ObserverTest, ADeviceLeavingTheConfigWhileOnIsABreach) {
  cmd("massager", massager(true, 300));
  at(1min);
  auto text = example_config_text();
  const auto from = text.find("[[devices]]\nid = \"massager\"");
  const auto to = text.find("[[routines]]");
  text.erase(from, to - from);
  obs.configure(load(text), t);
  at(2min);
  EXPECT_EQ(rules(), Rules{"made_safe_before_leaving"});
}

TEST_F(ObserverTest, LimitsTightenedByAReloadHoldAtOnce) {
  cmd("sound", sound(true, 450));
  at(1min);
  obs.configure(load(with(example_config_text(), "max_volume = 0.5", "max_volume = 0.4")), t);
  at(2min);
  EXPECT_EQ(rules(), Rules{"volume"});
}

TEST_F(ObserverTest, AWallClockJumpDoesNotShortenOrLengthenASession) {
  cmd("massager", massager(true, 300));
  at(10min);
  obs.shift(1h, t);
  t += 1h;  // the clock now reads an hour later; 10 minutes have passed
  at(1h + 14min);
  EXPECT_EQ(rules(), Rules{});
  at(1h + 16min);
  EXPECT_EQ(rules(), (Rules{"massage_session", "massage_rolling_hour"}));
}

}  // namespace
}  // namespace nursery::testing
