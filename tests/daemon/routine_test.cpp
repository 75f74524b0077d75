// The timeline is a pure function of routine time: these tests pin down what a
// parent sees at each moment of a routine.
#include "daemon/routine.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace nursery {
namespace {

using namespace std::chrono_literals;

config::StepConfig step(std::chrono::seconds at, Role role, std::chrono::seconds fade,
                        DeviceValues v) {
  config::StepConfig s;
  s.at = at;
  s.role = role;
  s.fade = fade;
  s.values = std::move(v);
  return s;
}

Level pct(double percent) { return Level::permille(static_cast<int>(percent * 10 + 0.5)); }

DeviceValues light(std::optional<bool> on, std::optional<double> brightness_percent,
                   std::optional<int> ct = std::nullopt) {
  DeviceValues v;
  v.light_on = on;
  if (brightness_percent) v.brightness = pct(*brightness_percent);
  v.color_temp = ct;
  return v;
}

config::RoutineConfig dimming_routine() {
  config::RoutineConfig r;
  r.id = "bedtime";
  r.steps = {step(0s, Capability::Light, 0s, light(true, 10, 2200)),
             step(600s, Capability::Light, 600s, light(std::nullopt, 2)),
             step(1500s, Capability::Light, 300s, light(false, std::nullopt))};
  return r;
}

TEST(Timeline, DurationEndsWithTheLastFade) {
  auto r = dimming_routine();
  EXPECT_EQ(Timeline(r).duration(), Duration(1800s));
}

TEST(Timeline, HoldsAStepsValuesUntilTheNextStep) {
  auto r = dimming_routine();
  Timeline t(r);
  auto v = t.segment(Capability::Light, 300s)->at(300s);
  EXPECT_EQ(v.light_on, true);
  EXPECT_EQ(*v.brightness, pct(10));
  EXPECT_EQ(v.color_temp, 2200);
  EXPECT_EQ(t.step_index(300s), 0);
}

TEST(Timeline, FadesLevelsLinearlyFromWhereThePreviousStepLeftThem) {
  auto r = dimming_routine();
  Timeline t(r);
  auto seg = t.segment(Capability::Light, 900s);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->step, 1);
  EXPECT_EQ(*seg->at(900s).brightness, pct(6));  // half way from 10 % to 2 %
  EXPECT_EQ(seg->at(900s).color_temp, 2200);     // untouched values carry over
  EXPECT_EQ(*seg->at(1200s).brightness, pct(2));
}

TEST(Timeline, SwitchingOffFadesToZeroThenSwitchesOff) {
  auto r = dimming_routine();
  Timeline t(r);
  auto seg = t.segment(Capability::Light, 1650s);
  auto mid = seg->at(1650s);
  EXPECT_EQ(mid.light_on, true);
  EXPECT_EQ(*mid.brightness, pct(1));
  EXPECT_EQ(as_command(seg->at(1800s)), DeviceValues::off(bit(Capability::Light)));
}

TEST(Timeline, ALightSwitchedOnRisesFromItsLowestVisibleLevel) {
  config::RoutineConfig r;
  r.steps = {step(0s, Capability::Light, 100s, light(true, 51))};
  Timeline t(r);
  EXPECT_EQ(*t.segment(Capability::Light, 0s)->at(0s).brightness, pct(1));
  EXPECT_EQ(*t.segment(Capability::Light, 50s)->at(50s).brightness, pct(26));
}

TEST(Timeline, SoundSwitchedOnFadesInFromSilence) {
  config::RoutineConfig r;
  DeviceValues v;
  v.sound_on = true;
  v.volume = pct(40);
  r.steps = {step(0s, Capability::Sound, 100s, v)};
  Timeline t(r);
  EXPECT_EQ(*t.segment(Capability::Sound, 0s)->at(0s).volume, pct(0));
  EXPECT_EQ(*t.segment(Capability::Sound, 50s)->at(50s).volume, pct(20));
}

TEST(Timeline, ARoleWithNoStepYetHasNoSegment) {
  auto r = dimming_routine();
  EXPECT_FALSE(Timeline(r).segment(Capability::Sound, 100s));
}

TEST(Timeline, NextStepIsTheFirstThatBeginsLater) {
  auto r = dimming_routine();
  Timeline t(r);
  EXPECT_EQ(t.next_step_at(0s), Duration(600s));
  EXPECT_EQ(t.next_step_at(600s), Duration(1500s));
  EXPECT_FALSE(t.next_step_at(1500s));
}

TEST(RoutineElapsed, ExcludesPausesAndIncludesSkips) {
  RunRecord run;
  run.started_at = TimePoint(1000000s);
  run.pauses = {{run.started_at + 60s, run.started_at + 90s}, {run.started_at + 200s, {}}};
  run.skipped = 100s;
  // 300 s of wall time, 30 s closed pause, 100 s of open pause, 100 s skipped.
  EXPECT_EQ(routine_elapsed(run, run.started_at + 300s), Duration(270s));
}

TEST(SoftwareFade, StepsNoMoreOftenThanTheValueVisiblyChanges) {
  auto r = dimming_routine();
  Timeline t(r);
  // 10 % to 2 % over 600 s: one visible (1 %) step every 75 s.
  auto seg = t.segment(Capability::Light, 600s);
  EXPECT_EQ(next_visible_change(*seg, 600s), Duration(75s));
  EXPECT_FALSE(next_visible_change(*seg, 1200s));  // the fade is over
}

TEST(ChangedFields, SendsOnlyWhatDiffers) {
  auto sent = light(true, 10, 2200);
  auto wanted = light(true, 0.09, 2200);
  EXPECT_EQ(changed_fields(wanted, sent), light(std::nullopt, 0.09));
  EXPECT_TRUE(changed_fields(sent, sent).empty());
}

TEST(Timeline, AFadeMidwayIsQuantizedToWholePercentButEndsExactlyOnTarget) {
  config::RoutineConfig r;
  r.steps = {step(0s, Capability::Light, 0s, light(true, 10)),
             step(10s, Capability::Light, 100s, light(std::nullopt, 1.5))};
  Timeline t(r);
  auto seg = t.segment(Capability::Light, 60s);
  // 10 % -> 1.5 % over 100 s: at 50 s 5.75 %, shown and sent as 6 %.
  EXPECT_EQ(*quantize(seg->at(60s)).brightness, pct(6));
  EXPECT_EQ(*seg->at(110s).brightness, Level::permille(15));
}

TEST(Timeline, TheSwitchOfEachRoleIsItsOwn) {
  config::RoutineConfig r;
  DeviceValues sound;
  sound.sound_on = true;
  r.steps = {step(0s, Capability::Light, 0s, light(false, std::nullopt)),
             step(0s, Capability::Sound, 0s, sound)};
  Timeline t(r);
  EXPECT_EQ(t.segment(Capability::Light, 1s)->at(1s).light_on, false);
  EXPECT_EQ(t.segment(Capability::Light, 1s)->at(1s).sound_on, std::nullopt);
  EXPECT_EQ(t.segment(Capability::Sound, 1s)->at(1s).sound_on, true);
}

TEST(Timeline, TheLastStepOfARoleAndTheStepThatSwitchedItOn) {
  auto r = dimming_routine();
  Timeline t(r);
  EXPECT_EQ(t.last_step_of(Capability::Light, 599s), 0);
  EXPECT_EQ(t.last_step_of(Capability::Light, 600s), 1);
  EXPECT_EQ(t.last_step_of(Capability::Sound, 600s), -1);
  EXPECT_EQ(t.switched_on_step(Capability::Light, 1000s), 0);
  EXPECT_FALSE(t.switched_on_step(Capability::Light, 1900s)) << "switched off at 1500 s";
}

TEST(Level, FractionsAreExactThousandths) {
  EXPECT_EQ(Level::from_fraction(0.47)->permille(), 470);
  EXPECT_EQ(Level::from_fraction(0.35)->permille(), 350);
  EXPECT_FALSE(Level::from_fraction(1.0001));
  EXPECT_FALSE(Level::from_fraction(-0.1));
  EXPECT_FALSE(Level::from_fraction(std::nan("")));
  EXPECT_EQ(describe(Level::permille(350)), "35%");
  EXPECT_EQ(describe(Level::permille(5)), "0.5%");
}

}  // namespace
}  // namespace nursery
