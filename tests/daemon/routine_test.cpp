// The timeline is a pure function of routine time: these tests pin down what a
// parent sees at each moment of a routine.
#include "daemon/routine.hpp"

#include <gtest/gtest.h>

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

DeviceValues light(std::optional<bool> on, std::optional<double> brightness,
                   std::optional<int> ct = std::nullopt) {
  DeviceValues v;
  v.on = on;
  v.brightness = brightness;
  v.color_temp = ct;
  return v;
}

config::RoutineConfig dimming_routine() {
  config::RoutineConfig r;
  r.id = "bedtime";
  r.steps = {step(0s, Capability::Light, 0s, light(true, 0.10, 2200)),
             step(600s, Capability::Light, 600s, light(std::nullopt, 0.02)),
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
  EXPECT_EQ(v.on, true);
  EXPECT_DOUBLE_EQ(*v.brightness, 0.10);
  EXPECT_EQ(v.color_temp, 2200);
  EXPECT_EQ(t.step_index(300s), 0);
}

TEST(Timeline, FadesLevelsLinearlyFromWhereThePreviousStepLeftThem) {
  auto r = dimming_routine();
  Timeline t(r);
  auto seg = t.segment(Capability::Light, 900s);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->step, 1);
  EXPECT_NEAR(*seg->at(900s).brightness, 0.06, 1e-9);  // half way from 10 % to 2 %
  EXPECT_EQ(seg->at(900s).color_temp, 2200);           // untouched values carry over
  EXPECT_NEAR(*seg->at(1200s).brightness, 0.02, 1e-9);
}

TEST(Timeline, SwitchingOffFadesToZeroThenSwitchesOff) {
  auto r = dimming_routine();
  Timeline t(r);
  auto seg = t.segment(Capability::Light, 1650s);
  auto mid = seg->at(1650s);
  EXPECT_EQ(mid.on, true);
  EXPECT_NEAR(*mid.brightness, 0.01, 1e-9);
  EXPECT_EQ(as_command(seg->at(1800s)), DeviceValues::off());
}

TEST(Timeline, ALightSwitchedOnRisesFromItsLowestVisibleLevel) {
  config::RoutineConfig r;
  r.steps = {step(0s, Capability::Light, 100s, light(true, 0.51))};
  Timeline t(r);
  EXPECT_NEAR(*t.segment(Capability::Light, 0s)->at(0s).brightness, 0.01, 1e-9);
  EXPECT_NEAR(*t.segment(Capability::Light, 50s)->at(50s).brightness, 0.26, 1e-9);
}

TEST(Timeline, SoundSwitchedOnFadesInFromSilence) {
  config::RoutineConfig r;
  DeviceValues v;
  v.on = true;
  v.volume = 0.4;
  r.steps = {step(0s, Capability::Sound, 100s, v)};
  Timeline t(r);
  EXPECT_NEAR(*t.segment(Capability::Sound, 0s)->at(0s).volume, 0.0, 1e-9);
  EXPECT_NEAR(*t.segment(Capability::Sound, 50s)->at(50s).volume, 0.2, 1e-9);
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
  auto sent = light(true, 0.10, 2200);
  auto wanted = light(true, 0.09, 2200);
  EXPECT_EQ(changed_fields(wanted, sent), light(std::nullopt, 0.09));
  EXPECT_TRUE(changed_fields(sent, sent).empty());
}

}  // namespace
}  // namespace nursery
