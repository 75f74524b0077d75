// The wake light in virtual time, on the example config with a [rooms.wake]:
// the sunrise ends at the wake time and never rises above the wake ceiling,
// the white noise fades out by then, the "OK to wake" light holds and goes
// out, and the sound's auto-off follows the wake time. Config mistakes in
// [rooms.wake] are errors at their line and column.
#include "daemon/wake_light.hpp"

#include "hub_fixture.hpp"

namespace nursery::testing {
namespace {

// kEvening is Thursday 2026-11-26 19:00 in London (UTC then).
const TimePoint kFridayWake = time_point_cast<milliseconds>(sys_days{year{2026} / 11 / 27} + 7h);

std::string with_wake(std::string_view block) {
  return with(example_config_text(), "default_routine = \"bedtime\"\n",
              fmt::format("default_routine = \"bedtime\"\n\n[rooms.wake]\n{}\n", block));
}

class WakeLightTest : public HubFixture {};

TEST_F(WakeLightTest, TheSunriseEndsAtTheWakeTimeWithinTheCeilingAndTheNoiseFadesOut) {
  start(with_wake("at = \"07:00\"\nfri = \"07:00\"\nsat = \"08:00\"\nramp = \"30m\""));
  ASSERT_TRUE(act(RoutineAction::Start));
  const auto plan = hub_->wake_plan("nursery");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->routine, "wake");
  EXPECT_EQ(plan->wake_at, kFridayWake);
  EXPECT_EQ(plan->start_at, kFridayWake - 30min);

  clock_.advance_to(plan->start_at);
  ASSERT_EQ(physical("sound").sound_on, true);  // white noise through the night
  ASSERT_EQ(physical("sound").volume, pct(30));
  ASSERT_TRUE(act(RoutineAction::Start, "wake"));  // what the scheduler does at start_at
  EXPECT_EQ(physical("night-light").light_on, true);
  EXPECT_LE(physical("night-light").brightness.value_or(Level{}), pct(1));
  EXPECT_EQ(physical("night-light").color_temp, 2200);  // the night colour

  Level last_volume = pct(30);
  Level last_brightness{};
  for (TimePoint t = clock_.now(); t < kFridayWake; t += 30s) {
    clock_.advance_to(t);
    const DeviceValues light = physical("night-light");
    EXPECT_LE(light.brightness.value_or(Level{}), pct(60)) << format_utc(t);
    EXPECT_LE(light.color_temp.value_or(0), 4000) << format_utc(t);
    EXPECT_GE(light.brightness.value_or(Level{}), last_brightness) << format_utc(t);
    last_brightness = light.brightness.value_or(Level{});
    const DeviceValues sound = physical("sound");
    if (sound.sound_on == true) {
      EXPECT_LE(sound.volume.value_or(Level{}), last_volume) << format_utc(t);
      last_volume = sound.volume.value_or(Level{});
    }
  }
  clock_.advance_to(kFridayWake - 15min);
  clock_.advance_to(kFridayWake - 1s);
  EXPECT_LT(physical("night-light").brightness.value_or(Level{}), pct(60));
  EXPECT_GT(physical("night-light").brightness.value_or(Level{}), pct(55));
  EXPECT_LE(physical("sound").volume.value_or(Level{}), pct(1));
  clock_.advance_to(kFridayWake);
  EXPECT_EQ(physical("night-light").brightness, pct(60));  // the ceiling, exactly at the wake time
  EXPECT_EQ(physical("night-light").color_temp, 4000);
  EXPECT_EQ(physical("sound").sound_on, false);
  clock_.advance(1h);
  EXPECT_EQ(physical("night-light").brightness, pct(60));
  EXPECT_TRUE(events("clamp").empty()) << "the wake routine stays inside its ceiling";
}

TEST_F(WakeLightTest, TheOkToWakeLightHoldsForItsTimeThenGoesOut) {
  start(
      with_wake("at = \"07:00\"\nramp = \"15m\"\nok_to_wake = \"20m\"\n"
                "ok_to_wake_brightness = 0.3\nok_to_wake_color_temp = 3000"));
  ASSERT_TRUE(act(RoutineAction::Start));
  const auto plan = hub_->wake_plan("nursery");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->start_at, kFridayWake - 15min);
  clock_.advance_to(plan->start_at);
  ASSERT_TRUE(act(RoutineAction::Start, "wake"));
  clock_.advance_to(kFridayWake);
  EXPECT_EQ(physical("night-light").brightness, pct(30));
  EXPECT_EQ(physical("night-light").color_temp, 3000);
  clock_.advance_to(kFridayWake + 20min - 1s);
  EXPECT_EQ(physical("night-light").light_on, true);
  clock_.advance_to(kFridayWake + 20min);
  EXPECT_EQ(physical("night-light").light_on, false);
  EXPECT_EQ(routine().state, RoutineState::Idle);
}

TEST_F(WakeLightTest, TheSoundAutoOffFollowsTheWakeTimeEvenWithoutTheWakeRoutine) {
  start(with_wake("at = \"06:30\""));
  ASSERT_TRUE(act(RoutineAction::Start));
  const TimePoint wake = kFridayWake - 30min;
  clock_.advance_to(wake - 1s);
  EXPECT_EQ(physical("sound").sound_on, true);
  clock_.advance_to(wake);
  EXPECT_EQ(physical("sound").sound_on, false);  // 11h30m after it began, not 12h
  EXPECT_FALSE(events("auto_off").empty());
}

TEST_F(WakeLightTest, ANightLengthCountsFromTheBedtimeStart) {
  start(with_wake("night_length = \"11h\"\nramp = \"45m\""));
  ASSERT_TRUE(act(RoutineAction::Start));
  const auto plan = hub_->wake_plan("nursery");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->wake_at, kEvening + 11h);
  EXPECT_EQ(plan->start_at, kEvening + 11h - 45min);
  // The scheduler may ask for any bedtime.
  const auto later = hub_->wake_plan("nursery", kEvening + 1h);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->wake_at, kEvening + 12h);
}

TEST_F(WakeLightTest, AWeekdayWithoutATimeHasNoWakeLightThatMorning) {
  // Only Saturdays: a Thursday bedtime wakes on Saturday, two days on.
  const auto wake = load(with_wake("sat = \"08:00\"")).rooms.at(0).wake;
  ASSERT_TRUE(wake);
  const auto plan = plan_wake(*wake, *date::locate_zone("Europe/London"), kEvening);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->wake_at, time_point_cast<milliseconds>(sys_days{year{2026} / 11 / 28} + 8h));
  // A Sunday-only wake time is three days on: out of reach, none.
  const auto sunday = load(with_wake("sun = \"08:00\"")).rooms.at(0).wake;
  EXPECT_FALSE(plan_wake(*sunday, *date::locate_zone("Europe/London"), kEvening));
}

TEST_F(WakeLightTest, AWakeTimeInTheSpringForwardGapIsTheFirstInstantAfterIt) {
  // Berlin, 2027-03-28: 02:00 jumps to 03:00; a 02:30 wake is at 03:00 CEST.
  const auto wake = load(with_wake("at = \"02:30\"\nramp = \"15m\"")).rooms.at(0).wake;
  const TimePoint bedtime = time_point_cast<milliseconds>(sys_days{year{2027} / 3 / 27} + 18h);
  const auto plan = plan_wake(*wake, *date::locate_zone("Europe/Berlin"), bedtime);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->wake_at, time_point_cast<milliseconds>(sys_days{year{2027} / 3 / 28} + 1h));
}

// The first error's "line:col: message" for a config with this [rooms.wake].
std::string wake_error(std::string_view block) {
  auto r = config::load_string(with_wake(block), "test.toml", plugins::catalog());
  for (const auto& d : r.diagnostics)
    if (d.severity == config::Diagnostic::Severity::Error) return d.to_string();
  return "no error";
}

TEST_F(WakeLightTest, MistakesInTheWakeBlockAreErrorsAtTheirPlace) {
  // The block's first key is on line 67 of the example config plus the header.
  const std::string text = with_wake("at = \"07:00\"");
  const auto line = std::count(text.begin(), text.begin() + text.find("[rooms.wake]"), '\n') + 2;
  EXPECT_EQ(wake_error("ramp = \"10m\"\nat = \"07:00\""),
            fmt::format("test.toml:{}:8: ramp must be from 15m to 1h, got 10m", line));
  EXPECT_EQ(wake_error("at = \"25:61\""),
            fmt::format("test.toml:{}:6: at must be a time of day \"HH:MM\" (00:00 to 23:59), "
                        "got \"25:61\"",
                        line));
  EXPECT_NE(wake_error("at = \"07:00\"\nnight_length = \"11h\"")
                .find(fmt::format("test.toml:{}:16: give the wake time either", line + 1)),
            std::string::npos);
  EXPECT_NE(wake_error("ramp = \"30m\"").find("needs a wake time"), std::string::npos);
  EXPECT_NE(wake_error("at = \"07:00\"\nok_to_wake_color_temp = 5000")
                .find("must be within the wake ceiling"),
            std::string::npos);
  EXPECT_NE(wake_error("at = \"07:00\"\nroutine = \"bedtime\"")
                .find(fmt::format("test.toml:{}:11: the wake routine \"bedtime\"", line + 1)),
            std::string::npos);
}

}  // namespace
}  // namespace nursery::testing
