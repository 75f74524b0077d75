// The safety choke point, with the shipped defaults (safety-defaults.md).
#include "daemon/safety.hpp"

#include <gtest/gtest.h>

namespace nursery {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

const TimePoint kNow = time_point_cast<milliseconds>(sys_days{year{2026} / 11 / 26} + 20h);

Safety with_birth(sys_days birth) { return Safety(config::SafetyConfig{}, birth); }
Safety baby_of_4_months() { return with_birth(sys_days{year{2026} / 7 / 20}); }

DeviceCommand command(DeviceValues v) { return DeviceCommand{std::move(v), 0ms, std::nullopt}; }

SafetySituation situation(Capability cap, bool night = false, DeviceValues current = {}) {
  return SafetySituation{static_cast<unsigned>(cap), std::move(current), night, kNow, {}};
}

TEST(Safety, CapsSoundVolumeAtHalfAndSaysWhy) {
  DeviceValues v;
  v.volume = 0.9;
  auto d = baby_of_4_months().check(command(v), situation(Capability::Sound));
  EXPECT_DOUBLE_EQ(*d.command.values.volume, 0.5);
  ASSERT_EQ(d.clamps.size(), 1u);
  EXPECT_EQ(d.clamps[0].field, "volume");
  EXPECT_EQ(d.clamps[0].requested, "90%");
  EXPECT_EQ(d.clamps[0].applied, "50%");
  EXPECT_FALSE(d.clamps[0].reason.empty());
}

TEST(Safety, LeavesAVolumeWithinTheCapAlone) {
  DeviceValues v;
  v.volume = 0.3;
  auto d = baby_of_4_months().check(command(v), situation(Capability::Sound));
  EXPECT_DOUBLE_EQ(*d.command.values.volume, 0.3);
  EXPECT_TRUE(d.clamps.empty());
}

TEST(Safety, StartsAMassageGentlyThenAllowsUpToTheCap) {
  DeviceValues start;
  start.on = true;
  start.intensity = 0.8;
  auto d = baby_of_4_months().check(command(start), situation(Capability::Massager));
  EXPECT_DOUBLE_EQ(*d.command.values.intensity, 0.3);
  DeviceValues running;
  running.on = true;
  running.intensity = 0.3;
  DeviceValues rise;
  rise.intensity = 0.8;
  auto d2 = baby_of_4_months().check(command(rise),
                                     situation(Capability::Massager, false, running));
  EXPECT_DOUBLE_EQ(*d2.command.values.intensity, 0.6);
}

TEST(Safety, SessionLengthFollowsTheChildsAge) {
  EXPECT_EQ(with_birth(sys_days{year{2026} / 10 / 20}).massage_session_limit(kNow), Duration(10min));
  EXPECT_EQ(with_birth(sys_days{year{2026} / 9 / 20}).massage_session_limit(kNow), Duration(15min));
  EXPECT_EQ(baby_of_4_months().massage_session_limit(kNow), Duration(20min));
  // 12 weeks and 2 days is not yet 3 calendar months.
  EXPECT_EQ(with_birth(sys_days{year{2026} / 9 / 1}).massage_session_limit(kNow), Duration(15min));
  EXPECT_EQ(with_birth(sys_days{year{2026} / 8 / 26}).massage_session_limit(kNow), Duration(20min));
  EXPECT_EQ(Safety(config::SafetyConfig{}, std::nullopt).massage_session_limit(kNow),
            Duration(10min));
}

TEST(Safety, GivesTheMassagerItsRemainingSessionForItsOwnTimer) {
  DeviceValues v;
  v.on = true;
  auto s = situation(Capability::Massager);
  s.session_started = kNow - 5min;
  auto d = baby_of_4_months().check(command(v), s);
  EXPECT_EQ(d.command.session, Duration(15min));
}

TEST(Safety, RefusesToRestartAMassageWhoseSessionIsOver) {
  DeviceValues v;
  v.on = true;
  v.intensity = 0.3;
  auto s = situation(Capability::Massager);
  s.session_started = kNow - 25min;
  auto d = baby_of_4_months().check(command(v), s);
  EXPECT_EQ(d.command.values, DeviceValues::off());
  ASSERT_EQ(d.clamps.size(), 1u);
  EXPECT_EQ(d.clamps[0].field, "on");
}

TEST(Safety, CapsNightLightBrightnessAndColour) {
  DeviceValues v;
  v.on = true;
  v.brightness = 0.8;
  v.color_temp = 4000;
  auto d = baby_of_4_months().check(command(v), situation(Capability::Light, true));
  EXPECT_DOUBLE_EQ(*d.command.values.brightness, 0.10);
  EXPECT_EQ(d.command.values.color_temp, 2200);
  EXPECT_EQ(d.clamps.size(), 2u);
}

TEST(Safety, SwitchesALightOnAtNightWithItsNightLevelInTheSameCommand) {
  DeviceValues remembered;
  remembered.on = false;
  remembered.brightness = 1.0;
  remembered.color_temp = 5000;
  DeviceValues v;
  v.on = true;
  auto d = baby_of_4_months().check(command(v), situation(Capability::Light, true, remembered));
  EXPECT_DOUBLE_EQ(*d.command.values.brightness, 0.10);
  EXPECT_EQ(d.command.values.color_temp, 2200);
}

TEST(Safety, DoesNotLimitDaytimeLight) {
  DeviceValues v;
  v.on = true;
  v.brightness = 0.8;
  auto d = baby_of_4_months().check(command(v), situation(Capability::Light, false));
  EXPECT_DOUBLE_EQ(*d.command.values.brightness, 0.8);
  EXPECT_TRUE(d.clamps.empty());
}

}  // namespace
}  // namespace nursery
