// The limits as a pure function, with the shipped defaults (safety-defaults.md),
// and the rolling massage budget.
#include "daemon/safety.hpp"

#include <gtest/gtest.h>

namespace nursery {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

const TimePoint kNow = time_point_cast<milliseconds>(sys_days{year{2026} / 11 / 26} + 20h);
const sys_days kToday{year{2026} / 11 / 26};

Level pct(int percent) { return Level::permille(percent * 10); }

Safety defaults() { return Safety(config::SafetyConfig{}); }

DeviceCommand command(DeviceValues v) { return DeviceCommand{0, std::move(v), 0ms, std::nullopt}; }

MassageAllowance may_run(Duration d, bool session_open = false) {
  return MassageAllowance{session_open, d, d > 0ms ? "" : "the session is over"};
}

SafetySituation situation(Capabilities caps, bool night = false, DeviceValues current = {}) {
  SafetySituation s{caps, std::move(current), night, false, std::nullopt, std::nullopt};
  if (has(caps, Capability::Massager)) s.massage = may_run(20min);
  if (has(caps, Capability::Sound)) s.sound = SoundAllowance{12h, ""};
  return s;
}

TEST(Safety, CapsSoundVolumeAtHalfAndSaysWhy) {
  DeviceValues v;
  v.volume = pct(90);
  auto d = defaults().check(command(v), situation(bit(Capability::Sound)));
  EXPECT_EQ(*d.command.values.volume, pct(50));
  ASSERT_EQ(d.clamps.size(), 1u);
  EXPECT_EQ(d.clamps[0].field, "volume");
  EXPECT_EQ(d.clamps[0].requested, "90%");
  EXPECT_EQ(d.clamps[0].applied, "50%");
  EXPECT_FALSE(d.clamps[0].reason.empty());
}

TEST(Safety, AValueExactlyAtTheLimitIsNotAClamp) {
  config::SafetyConfig limits;
  limits.sound.max_volume = *Level::from_fraction(0.35);
  DeviceValues v;
  v.volume = Level::from_fraction(0.35);
  auto d = Safety(limits).check(command(v), situation(bit(Capability::Sound)));
  EXPECT_TRUE(d.clamps.empty()) << "no \"35 % -> 35 %\" clamp";
  EXPECT_EQ(d.command.values.volume, Level::from_fraction(0.35));
}

TEST(Safety, StartsAMassageGentlyThenAllowsUpToTheCap) {
  DeviceValues start;
  start.massager_on = true;
  start.intensity = pct(80);
  auto d = defaults().check(command(start), situation(bit(Capability::Massager)));
  EXPECT_EQ(*d.command.values.intensity, pct(30));
  EXPECT_TRUE(d.starts_massage_session);
  EXPECT_TRUE(d.transient()) << "the gentle start is a clamp of the moment";

  DeviceValues running;
  running.massager_on = true;
  running.intensity = pct(30);
  DeviceValues rise;
  rise.intensity = pct(80);
  auto s = situation(bit(Capability::Massager), false, running);
  s.massage = may_run(15min, true);
  auto d2 = defaults().check(command(rise), s);
  EXPECT_EQ(*d2.command.values.intensity, pct(60));
  EXPECT_FALSE(d2.transient());
}

TEST(Safety, SwitchingOnAgainWithinAnOpenSessionIsNotAGentleStart) {
  DeviceValues on;
  on.massager_on = true;
  on.intensity = pct(45);
  auto s = situation(bit(Capability::Massager));
  s.massage = may_run(10min, true);
  auto d = defaults().check(command(on), s);
  EXPECT_EQ(*d.command.values.intensity, pct(45));
  EXPECT_FALSE(d.starts_massage_session);
}

TEST(Safety, SessionLengthFollowsTheChildsAgeOnTheGivenDay) {
  auto limit = [](sys_days birth) { return defaults().massage_session_limit(birth, kToday); };
  EXPECT_EQ(limit(sys_days{year{2026} / 10 / 20}), Duration(10min));
  EXPECT_EQ(limit(sys_days{year{2026} / 9 / 20}), Duration(15min));
  EXPECT_EQ(limit(sys_days{year{2026} / 7 / 20}), Duration(20min));
  // 12 weeks and 2 days is not yet 3 calendar months.
  EXPECT_EQ(limit(sys_days{year{2026} / 9 / 1}), Duration(15min));
  EXPECT_EQ(limit(sys_days{year{2026} / 8 / 26}), Duration(20min));
  EXPECT_EQ(defaults().massage_session_limit(std::nullopt, kToday), Duration(10min));
}

TEST(Safety, GivesTheMassagerWhatIsLeftOfItsSessionForItsOwnTimer) {
  DeviceValues v;
  v.massager_on = true;
  auto s = situation(bit(Capability::Massager));
  s.massage = may_run(15min, true);
  auto d = defaults().check(command(v), s);
  EXPECT_EQ(d.command.massage_session, Duration(15min));
}

TEST(Safety, RefusesAMassageThatMayNotRunAndSaysWhy) {
  DeviceValues v;
  v.massager_on = true;
  v.intensity = pct(30);
  auto s = situation(bit(Capability::Massager));
  s.massage = MassageAllowance{false, 0ms, "another can start at 21:05"};
  auto d = defaults().check(command(v), s);
  EXPECT_EQ(d.command.values, DeviceValues::off(bit(Capability::Massager)));
  ASSERT_EQ(d.clamps.size(), 1u);
  EXPECT_EQ(d.clamps[0].field, "on");
  EXPECT_EQ(d.clamps[0].reason, "another can start at 21:05");
  EXPECT_FALSE(d.command.massage_session);
}

TEST(Safety, SwitchesOffARunningMassagerAtAnyCommandOnceItMayNotRun) {
  DeviceValues running;
  running.massager_on = true;
  DeviceValues v;
  v.pattern = "wave";
  auto s = situation(bit(Capability::Massager), false, running);
  s.massage = MassageAllowance{true, 0ms, "over"};
  auto d = defaults().check(command(v), s);
  EXPECT_EQ(d.command.values.massager_on, false);
}

TEST(Safety, RefusesSoundPastItsAutoOff) {
  DeviceValues v;
  v.sound_on = true;
  auto s = situation(bit(Capability::Sound));
  s.sound = SoundAllowance{0ms, "sound auto-off"};
  auto d = defaults().check(command(v), s);
  EXPECT_EQ(d.command.values.sound_on, false);
}

TEST(Safety, CapsNightLightBrightnessAndColour) {
  DeviceValues v;
  v.light_on = true;
  v.brightness = pct(80);
  v.color_temp = 4000;
  auto d = defaults().check(command(v), situation(bit(Capability::Light), true));
  EXPECT_EQ(*d.command.values.brightness, pct(10));
  EXPECT_EQ(d.command.values.color_temp, 2200);
  EXPECT_EQ(d.clamps.size(), 2u);
}

TEST(Safety, SwitchesALightOnAtNightWithItsNightLevelInTheSameCommand) {
  DeviceValues remembered;
  remembered.light_on = false;
  remembered.brightness = pct(100);
  remembered.color_temp = 5000;
  DeviceValues v;
  v.light_on = true;
  auto d = defaults().check(command(v), situation(bit(Capability::Light), true, remembered));
  EXPECT_EQ(*d.command.values.brightness, pct(10));
  EXPECT_EQ(d.command.values.color_temp, 2200);
}

TEST(Safety, ValuesStagedWhileOffAtNightAreClampedAsIfOn) {
  DeviceValues v;
  v.light_on = false;
  v.brightness = pct(100);
  v.color_temp = 6500;
  auto d = defaults().check(command(v), situation(bit(Capability::Light), true));
  EXPECT_EQ(*d.command.values.brightness, pct(10));
  EXPECT_EQ(d.command.values.color_temp, 2200);
  EXPECT_EQ(d.command.values.light_on, false);
}

TEST(Safety, DoesNotLimitDaytimeLight) {
  DeviceValues v;
  v.light_on = true;
  v.brightness = pct(80);
  auto d = defaults().check(command(v), situation(bit(Capability::Light), false));
  EXPECT_EQ(*d.command.values.brightness, pct(80));
  EXPECT_TRUE(d.clamps.empty());
}

TEST(Safety, ALightAndSoundDeviceKeepsItsSwitchesApart) {
  DeviceValues v;
  v.light_on = false;
  v.sound_on = true;
  v.volume = pct(30);
  auto d = defaults().check(command(v), situation(Capability::Light | Capability::Sound, true));
  EXPECT_EQ(d.command.values.light_on, false);
  EXPECT_EQ(d.command.values.sound_on, true);
  EXPECT_TRUE(d.clamps.empty());
}

TEST(Safety, CapsTheWakeLightAtItsCeilingWhileAWakeRoutineRuns) {
  DeviceValues v;
  v.light_on = true;
  v.brightness = pct(100);
  v.color_temp = 6500;
  auto s = situation(bit(Capability::Light));
  s.waking = true;
  auto d = defaults().check(command(v), s);
  EXPECT_EQ(*d.command.values.brightness, pct(60));
  EXPECT_EQ(d.command.values.color_temp, 4000);
}

// --- the rolling budget ------------------------------------------------------

TEST(RollingAllowance, AFreshDeviceMayRunAWholeSession) {
  EXPECT_EQ(rolling_allowance({}, kNow, 60min, 20min), Duration(20min));
}

TEST(RollingAllowance, TimeAlreadyRunInTheLastHourCounts) {
  std::vector<OnPeriod> periods{{kNow - 30min, kNow - 21min}};  // 9 min, ended 21 min ago
  EXPECT_EQ(rolling_allowance(periods, kNow, 60min, 20min), Duration(11min));
}

TEST(RollingAllowance, ChainedShortSessionsCannotAddUpToMoreThanOneSession) {
  std::vector<OnPeriod> periods{{kNow - 19min, kNow - 10min}, {kNow - 9min - 57s, kNow - 57s}};
  EXPECT_EQ(rolling_allowance(periods, kNow, 60min, 20min), Duration(2min));
}

TEST(RollingAllowance, TimeThatLeavesTheWindowWhileRunningIsGivenBack) {
  // 20 min ran from 70 to 50 minutes ago: 10 of them are still in the window
  // now, and they leave it as the next session runs.
  std::vector<OnPeriod> periods{{kNow - 70min, kNow - 50min}};
  EXPECT_EQ(rolling_allowance(periods, kNow, 60min, 20min), Duration(20min));
  // 10 min ran from 55 to 45 minutes ago: a naive "budget minus use" would
  // allow 10, but those minutes leave the hour before they could add up.
  std::vector<OnPeriod> earlier{{kNow - 55min, kNow - 45min}};
  EXPECT_EQ(rolling_allowance(earlier, kNow, 60min, 20min), Duration(20min));
  // A whole session that ended half an hour ago: none until it has aged.
  std::vector<OnPeriod> recent{{kNow - 50min, kNow - 30min}};
  EXPECT_EQ(rolling_allowance(recent, kNow, 60min, 20min), Duration(0));
}

TEST(RollingAllowance, SaysWhenTheNextSessionCanStart) {
  std::vector<OnPeriod> periods{{kNow - 20min, kNow}};
  const TimePoint next = next_allowance(periods, kNow, 60min, 20min, 1min);
  // A minute may run once the first minute of that session has left the hour.
  EXPECT_NEAR(duration_cast<seconds>(next - kNow).count(), 40 * 60, 2);
}

}  // namespace
}  // namespace nursery
