// The shipped example config is what the demo runs: it must load without a
// single diagnostic, say what it looks like it says, and stay inside the safety
// defaults so that the demo shows no clamp.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>

#include "config/loader.hpp"
#include "test_drivers.hpp"

namespace nursery::config {
namespace {

using std::chrono::minutes;

class ExampleConfig : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    result_ = new LoadResult(
        load_file(NURSERY_SOURCE_DIR "/config/nurseryd.toml", testing::test_drivers()));
  }
  static void TearDownTestSuite() {
    delete result_;
    result_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(result_->ok()) << describe(); }

  static std::string describe() {
    std::string text;
    for (const auto& d : result_->diagnostics) text += d.to_string() + "\n";
    return text;
  }
  static const Config& config() { return *result_->config; }
  static const RoutineConfig& routine(std::string_view id) {
    const auto* r = config().find_routine(id);
    EXPECT_NE(r, nullptr) << id;
    static const RoutineConfig missing;
    return r ? *r : missing;
  }
  // When the last step (including its fade) ends.
  static Seconds length_of(const RoutineConfig& routine) {
    Seconds end{0};
    for (const auto& step : routine.steps) end = std::max(end, step.at + step.fade);
    return end;
  }

  static LoadResult* result_;
};

LoadResult* ExampleConfig::result_ = nullptr;

TEST_F(ExampleConfig, LoadsWithoutErrorsOrWarnings) {
  EXPECT_TRUE(result_->diagnostics.empty()) << describe();
}

TEST_F(ExampleConfig, NamesItsSourceFile) {
  EXPECT_EQ(config().source, NURSERY_SOURCE_DIR "/config/nurseryd.toml");
}

TEST_F(ExampleConfig, DescribesTheHubAndTheChild) {
  EXPECT_EQ(config().hub.name, "Nursery hub");
  EXPECT_EQ(config().hub.time_zone, "Europe/London");
  EXPECT_NEAR(config().hub.latitude, 51.5, 0.5);
  EXPECT_NEAR(config().hub.longitude, -0.13, 0.5);
  EXPECT_EQ(config().child.name, "Robin");
  using namespace std::chrono;
  EXPECT_EQ(config().child.birth_date, sys_days{year{2026} / September / 1});
}

TEST_F(ExampleConfig, ShipsTheSafetyDefaultsOfTheModel) {
  const SafetyConfig defaults;
  const auto& safety = config().safety;
  EXPECT_EQ(safety.sound.max_volume, defaults.sound.max_volume);
  EXPECT_EQ(safety.sound.auto_off, defaults.sound.auto_off);
  EXPECT_EQ(safety.massage.max_intensity, defaults.massage.max_intensity);
  EXPECT_EQ(safety.massage.start_intensity, defaults.massage.start_intensity);
  EXPECT_EQ(safety.massage.session_under_6_weeks, defaults.massage.session_under_6_weeks);
  EXPECT_EQ(safety.massage.session_6_to_12_weeks, defaults.massage.session_6_to_12_weeks);
  EXPECT_EQ(safety.massage.session_from_3_months, defaults.massage.session_from_3_months);
  EXPECT_EQ(safety.light.night_max_brightness, defaults.light.night_max_brightness);
  EXPECT_EQ(safety.light.night_max_color_temp, defaults.light.night_max_color_temp);
  EXPECT_EQ(safety.light.night_window, defaults.light.night_window);
}

TEST_F(ExampleConfig, HasOneNurseryWhoseDefaultIsBedtime) {
  ASSERT_EQ(config().rooms.size(), 1u);
  const auto& room = config().rooms[0];
  EXPECT_EQ(room.id, "nursery");
  EXPECT_EQ(room.name, "Nursery");
  EXPECT_EQ(room.default_routine, "bedtime");
}

TEST_F(ExampleConfig, HasASimulatedLightSoundMachineAndMassagerInTheNursery) {
  ASSERT_EQ(config().devices.size(), 3u);
  struct Expected {
    const char* id;
    const char* name;
    const char* kind;
  };
  const Expected expected[] = {{"night-light", "Night light", "light"},
                               {"sound", "Sound machine", "sound"},
                               {"massager", "Massager", "massager"}};
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(expected[i].id);
    const auto& device = config().devices[i];
    EXPECT_EQ(device.id, expected[i].id);
    EXPECT_EQ(device.name, expected[i].name);
    EXPECT_EQ(device.room, "nursery");
    EXPECT_EQ(device.driver, "simulated");
    ASSERT_TRUE(device.options.count("kind"));
    EXPECT_EQ(std::get<std::string>(device.options.at("kind").value), expected[i].kind);
  }
  const auto& light = config().devices[0];
  ASSERT_TRUE(light.options.count("native_transition"));
  EXPECT_FALSE(std::get<bool>(light.options.at("native_transition").value));
}

TEST_F(ExampleConfig, BedtimeIsABedtimeRoutineOfSevenStepsEndingAt45Minutes) {
  const auto& bedtime = routine("bedtime");
  EXPECT_EQ(bedtime.name, "Bedtime");
  EXPECT_EQ(bedtime.kind, RoutineKind::Bedtime);
  ASSERT_EQ(bedtime.steps.size(), 7u);
  EXPECT_EQ(length_of(bedtime), minutes{45});
  EXPECT_TRUE(std::is_sorted(bedtime.steps.begin(), bedtime.steps.end(),
                             [](const auto& a, const auto& b) { return a.at < b.at; }));

  const auto& first = bedtime.steps[0];
  EXPECT_EQ(first.role, Capability::Light);
  EXPECT_EQ(first.at, Seconds{0});
  EXPECT_EQ(first.fade, minutes{2});
  EXPECT_EQ(first.values.light_on, true);
  EXPECT_EQ(first.values.brightness, Level::permille(100));
  EXPECT_EQ(first.values.color_temp, 2200);

  const auto& sound = bedtime.steps[1];
  EXPECT_EQ(sound.role, Capability::Sound);
  EXPECT_EQ(sound.values.track, "white-noise");
  EXPECT_EQ(sound.values.volume, Level::permille(300));

  const auto& last = bedtime.steps.back();
  EXPECT_EQ(last.role, Capability::Light);
  EXPECT_EQ(last.at, minutes{40});
  EXPECT_EQ(last.values.light_on, false);
}

TEST_F(ExampleConfig, SunriseIsAThirtyMinuteWakeLightThatStopsTheSound) {
  const auto& sunrise = routine("sunrise");
  EXPECT_EQ(sunrise.kind, RoutineKind::Wake);
  ASSERT_EQ(sunrise.steps.size(), 3u);
  EXPECT_EQ(length_of(sunrise), minutes{30});
  const auto& start = sunrise.steps[0];
  EXPECT_EQ(start.role, Capability::Light);
  EXPECT_EQ(start.values.brightness, Level::permille(10));
  EXPECT_EQ(start.values.color_temp, 2200);
  EXPECT_EQ(sunrise.steps[1].role, Capability::Sound);
  EXPECT_EQ(sunrise.steps[1].values.sound_on, false);
  const auto& end = sunrise.steps[2];
  EXPECT_EQ(end.values.brightness, Level::permille(600));
  EXPECT_EQ(end.values.color_temp, 4000);
  EXPECT_EQ(end.at + end.fade, minutes{30});
}

// What the demo shows: a clamp there would mean the example contradicts its
// own safety limits.
TEST_F(ExampleConfig, BedtimeStaysInsideTheSafetyDefaults) {
  const auto& safety = config().safety;
  const auto& bedtime = routine("bedtime");
  std::optional<Seconds> massage_on;
  bool first_massage = true;
  bool massage_ended = false;
  for (const auto& step : bedtime.steps) {
    SCOPED_TRACE(step.where.to_string());
    const auto& v = step.values;
    EXPECT_LE(v.brightness.value_or(Level{}), safety.light.night_max_brightness);
    EXPECT_LE(v.color_temp.value_or(kMinColorTemp), safety.light.night_max_color_temp);
    EXPECT_LE(v.volume.value_or(Level{}), safety.sound.max_volume);
    EXPECT_LE(v.intensity.value_or(Level{}), safety.massage.max_intensity);
    if (v.intensity && first_massage) {
      EXPECT_LE(*v.intensity, safety.massage.start_intensity);
      first_massage = false;
    }
    if (step.role == Capability::Massager && v.massager_on == true) massage_on = step.at;
    if (step.role == Capability::Massager && v.massager_on == false) {
      ASSERT_TRUE(massage_on);
      // The child of the example is past 6 weeks: the session must fit the
      // limit of that age (and so every later one).
      EXPECT_LE(step.at - *massage_on, safety.massage.session_6_to_12_weeks);
      massage_ended = true;
    }
  }
  EXPECT_FALSE(first_massage) << "bedtime should include a massage";
  EXPECT_TRUE(massage_ended) << "bedtime should switch the massager off";
}

}  // namespace
}  // namespace nursery::config
