// Whole routines and nights in virtual time: what a parent sees the devices
// do, through the real hub, the real simulated plugin and a real store.
#include "hub_fixture.hpp"

namespace nursery::testing {
namespace {

using HubTest = HubFixture;

DeviceValues light(std::optional<bool> on, std::optional<double> brightness = {},
                   std::optional<int> ct = {}) {
  DeviceValues v;
  v.light_on = on;
  if (brightness) v.brightness = pct(*brightness);
  v.color_temp = ct;
  return v;
}
DeviceValues massager(std::optional<bool> on, std::optional<double> intensity = {}) {
  DeviceValues v;
  v.massager_on = on;
  if (intensity) v.intensity = pct(*intensity);
  return v;
}
DeviceValues sound(std::optional<bool> on, std::optional<double> volume = {}) {
  DeviceValues v;
  v.sound_on = on;
  if (volume) v.volume = pct(*volume);
  return v;
}

// A bedtime routine that asks for a long massage, longer than any session.
const char* kLongMassage = R"(
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

TEST_F(HubTest, PlaysTheWholeBedtimeRoutineAndStoresTheRun) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  EXPECT_EQ(routine().state, RoutineState::Running);
  EXPECT_EQ(routine().ends_at, kEvening + 45min);

  clock_.advance(6min);
  EXPECT_EQ(physical("massager").massager_on, true);
  EXPECT_EQ(physical("massager").intensity, pct(30));
  EXPECT_EQ(physical("night-light").brightness, pct(10));
  EXPECT_EQ(physical("sound").volume, pct(30));

  clock_.advance(40min);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(physical("night-light").light_on, false);
  EXPECT_EQ(physical("massager").massager_on, false);
  EXPECT_EQ(physical("sound").sound_on, true);  // white noise plays on through the night
  auto all = runs();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].outcome, Outcome::Completed);
  EXPECT_EQ(all[0].ended_at, kEvening + 45min);
  EXPECT_TRUE(events("clamp").empty()) << "the example routine stays inside the limits";
}

TEST_F(HubTest, AWholeNightEndsWithTheSoundSwitchedOffByItsAutoOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(11h);
  EXPECT_EQ(physical("sound").sound_on, true);
  clock_.advance(2h);  // past 12 h after the sound started
  EXPECT_EQ(physical("sound").sound_on, false);
  auto offs = events("auto_off");
  EXPECT_EQ(std::count_if(offs.begin(), offs.end(), [](auto& e) { return e.device == "sound"; }),
            1);
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
  EXPECT_LE(sim("night-light").commands_received(), 22u);
  EXPECT_GE(sim("night-light").commands_received(), 15u);
}

TEST_F(HubTest, GivesANativeFadeTheTargetAndTheRemainingTimeInOneCommand) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(11min);  // 1 minute into the massager's 2-minute rise
  EXPECT_EQ(physical("massager").intensity, pct(45));
  EXPECT_EQ(sim("massager").commands_received(), 2u);
}

TEST_F(HubTest, PauseFreezesTheRoutineAndResumeGoesOnWhereItWas) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(26min);  // 1 min into the light's 10-minute dimming
  ASSERT_TRUE(act(RoutineAction::Pause));
  const auto frozen = physical("night-light").brightness;
  const int step = routine().step_index;
  EXPECT_EQ(routine().state, RoutineState::Paused);
  EXPECT_FALSE(routine().ends_at);
  clock_.advance(30min);
  EXPECT_EQ(physical("night-light").brightness, frozen);
  EXPECT_EQ(routine().step_index, step);
  ASSERT_TRUE(act(RoutineAction::Resume));
  EXPECT_EQ(routine().ends_at, kEvening + 45min + 30min);
  EXPECT_FALSE(act(RoutineAction::Resume)) << "resuming a running routine is refused";
  clock_.advance(20min);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(physical("night-light").light_on, false);
}

TEST_F(HubTest, PausingDuringTheMassageSwitchesTheMassagerOffAndResumeBringsItBack) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  ASSERT_TRUE(act(RoutineAction::Pause));
  EXPECT_EQ(physical("massager").massager_on, false);
  clock_.advance(2min);
  ASSERT_TRUE(act(RoutineAction::Resume));
  EXPECT_EQ(physical("massager").massager_on, true);
  EXPECT_TRUE(events("clamp").empty()) << "the session goes on: no gentle start again";
}

TEST_F(HubTest, SkipJumpsToTheNextStep) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(1min);
  ASSERT_TRUE(act(RoutineAction::Skip));
  EXPECT_EQ(routine().step_index, 2);  // the massage step at 5 min
  EXPECT_EQ(physical("massager").massager_on, true);
  EXPECT_EQ(routine().ends_at, clock_.now() + 40min);
}

TEST_F(HubTest, SkipOnTheLastStepBringsEveryDeviceToItsFinalValuesThenCompletes) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(42min);  // mid-way through the last step, the light fading out
  ASSERT_TRUE(physical("night-light").light_on);
  ASSERT_TRUE(act(RoutineAction::Skip));
  EXPECT_EQ(physical("night-light").light_on, false);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(runs()[0].outcome, Outcome::Completed);
}

TEST_F(HubTest, SkipWhilePausedMovesThePositionAndAppliesNothingUntilResume) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(1min);
  ASSERT_TRUE(act(RoutineAction::Pause));
  const auto massager_commands = sim("massager").commands_received();
  ASSERT_TRUE(act(RoutineAction::Skip));
  EXPECT_EQ(routine().state, RoutineState::Paused);
  EXPECT_EQ(routine().step_index, 2) << "the position moved to the massage step";
  EXPECT_EQ(physical("massager").massager_on, false) << "nothing is applied while paused";
  EXPECT_EQ(sim("massager").commands_received(), massager_commands);
  ASSERT_TRUE(act(RoutineAction::Resume));
  EXPECT_EQ(physical("massager").massager_on, true);
}

TEST_F(HubTest, StopEndsTheRunAsStoppedAndSwitchesTheMassagerOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(7min);
  ASSERT_EQ(physical("massager").massager_on, true);
  ASSERT_TRUE(act(RoutineAction::Stop));
  EXPECT_EQ(physical("massager").massager_on, false);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(runs()[0].outcome, Outcome::Stopped);
  EXPECT_FALSE(act(RoutineAction::Stop)) << "stopping an idle room is refused";
}

TEST_F(HubTest, StartingWhileRunningIsRefusedAndChangesNothing) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  auto second = act(RoutineAction::Start, "sunrise");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().http_status, 409);
  EXPECT_EQ(routine().routine, "bedtime");
  EXPECT_EQ(runs().size(), 1u);
}

TEST_F(HubTest, AChangeByHandHoldsTheDeviceUntilTheNextStepOfItsRole) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(26min);  // the light is dimming in software
  sim("night-light").change_by_hand(light(std::nullopt, 5));
  settle();
  const auto sent = sim("night-light").commands_received();
  clock_.advance(10min);  // the rest of the dimming step: left alone
  EXPECT_EQ(sim("night-light").commands_received(), sent);
  EXPECT_EQ(physical("night-light").brightness, pct(5));
  EXPECT_TRUE(device_status("night-light").overridden);
  EXPECT_EQ(events("override").size(), 1u);
  clock_.advance(5min);  // the lights-out step takes it back
  EXPECT_FALSE(device_status("night-light").overridden);
  EXPECT_GT(sim("night-light").commands_received(), sent);
  clock_.advance(5min);
  EXPECT_EQ(physical("night-light").light_on, false);
}

TEST_F(HubTest, AManualHoldIsNotEndedByAStepOfAnotherRole) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(3min);
  ASSERT_TRUE(set("night-light", light(std::nullopt, 4)));
  clock_.advance(3min);  // the massage step at 5 min begins
  EXPECT_EQ(physical("massager").massager_on, true);
  EXPECT_EQ(physical("night-light").brightness, pct(4)) << "the light is still the parent's";
  EXPECT_TRUE(device_status("night-light").overridden);
  clock_.advance(20min);  // the light's own step at 25 min takes it back
  EXPECT_FALSE(device_status("night-light").overridden);
}

TEST_F(HubTest, AManualCommandIsClampedReportedAndHoldsTheDevice) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(3min);
  auto r = set("night-light", light(std::nullopt, 80, 4000));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->applied.brightness, pct(10));
  EXPECT_EQ(r->applied.color_temp, 2200);
  EXPECT_EQ(r->clamps.size(), 2u);
  EXPECT_EQ(events("clamp").size(), 1u);
  EXPECT_EQ(events("clamp")[0].source, "control");
  EXPECT_TRUE(device_status("night-light").overridden);
}

TEST_F(HubTest, RefusedManualCommandsChangeNothing) {
  start();
  auto r = set("night-light", sound(std::nullopt, 30));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "unsupported_value");
  EXPECT_EQ(set("night-light", sound(std::nullopt, 30), {}, "attic").error().http_status, 404);
  EXPECT_EQ(set("lamp", light(true)).error().http_status, 404);
  EXPECT_EQ(set("night-light", {}).error().code, "invalid_request");
  EXPECT_EQ(sim("night-light").commands_received(), 0u);
  EXPECT_TRUE(store_->recent_events(10)->empty());
}

TEST_F(HubTest, ALightOffCannotBePresetBeyondTheNightLimits) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(46min);  // the routine has ended; the night goes on
  auto r = set("night-light", light(false, 100, 6500));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->applied.brightness, pct(10));
  EXPECT_EQ(r->applied.color_temp, 2200);
  EXPECT_EQ(physical("night-light").light_on, false);
  EXPECT_LE(*physical("night-light").brightness, pct(10));
  EXPECT_LE(*physical("night-light").color_temp, 2200);
  // So the next switch-on, from anywhere, is not a full-white flash.
  sim("night-light").change_by_hand(light(true));
  settle();
  EXPECT_LE(*physical("night-light").brightness, pct(10));
}

TEST_F(HubTest, ALightReportedBeyondTheNightLimitsIsBroughtBack) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(50min);
  sim("night-light").change_by_hand(light(true, 100, 5000));  // the wall switch
  settle();
  EXPECT_EQ(physical("night-light").brightness, pct(10));
  EXPECT_EQ(physical("night-light").color_temp, 2200);
}

// Found by the property test: restart (or reload) with tighter night limits
// while a light is on within the old ones and no routine runs to send it anything.
TEST_F(HubTest, NightLimitsTightenedByAReloadOrARestartApplyAtOnceToALightThatIsOn) {
  const std::string loose =
      with(with(example_config_text(), "night_max_brightness = 0.1", "night_max_brightness = 0.2"),
           "night_max_color_temp = 2200", "night_max_color_temp = 2700");
  start(loose);
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(50min);  // the routine is over, the night goes on
  ASSERT_EQ(routine().state, RoutineState::Idle);
  ASSERT_TRUE(set("night-light", light(true, 20, 2700)));
  reload(example_config_text());
  EXPECT_EQ(physical("night-light").brightness, pct(10));
  EXPECT_EQ(physical("night-light").color_temp, 2200);

  reload(loose);
  ASSERT_TRUE(set("night-light", light(true, 20, 2700)));
  start(example_config_text());  // a restart
  EXPECT_EQ(physical("night-light").brightness, pct(10));
  EXPECT_EQ(physical("night-light").color_temp, 2200);
}

TEST_F(HubTest, ResumesAfterACrashWhereTheRoutineWouldBeNow) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(7min);
  clock_.advance(4min);
  start();  // the process died at 7 min; this is the restart at 11 min
  EXPECT_EQ(routine().state, RoutineState::Running);
  EXPECT_EQ(routine().started_at, kEvening);
  EXPECT_EQ(routine().step_index, 3);  // the massager's rise at 10 min
  EXPECT_EQ(physical("massager").massager_on, true);
  EXPECT_EQ(physical("night-light").brightness, pct(10));
  EXPECT_EQ(runs().size(), 1u);
  clock_.advance(40min);
  EXPECT_EQ(runs()[0].outcome, Outcome::Completed);
}

TEST_F(HubTest, ClosesARunThatWouldHaveEndedWhileTheHubWasDownAsInterrupted) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(7min);
  hub_.reset();
  clock_.advance(2h);
  start();
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(runs()[0].outcome, Outcome::Interrupted);
  EXPECT_GE(*runs()[0].ended_at, runs()[0].started_at);
}

TEST_F(HubTest, NeverRestartsAMassageWhoseSessionWindowHasPassed) {
  const std::string text = example_config_text() + kLongMassage;
  start(text);
  ASSERT_TRUE(act(RoutineAction::Start, "long-massage"));
  clock_.advance(16min);
  EXPECT_EQ(physical("massager").massager_on, false) << "15 min for a 12-week-old";
  hub_.reset();
  clock_.advance(1min);
  start(text);
  EXPECT_EQ(routine().state, RoutineState::Running);
  clock_.advance(20min);
  EXPECT_EQ(physical("massager").massager_on, false);
  EXPECT_EQ(physical_.on_time("massager", Capability::Massager, kEvening, clock_.now()),
            Duration(15min));
}

TEST_F(HubTest, PauseAndReloadNeverLengthenAMassageSession) {
  const std::string text = example_config_text() + kLongMassage;
  start(text);
  ASSERT_TRUE(act(RoutineAction::Start, "long-massage"));
  clock_.advance(3min);
  ASSERT_TRUE(act(RoutineAction::Pause));
  clock_.advance(10min);
  reload(text);
  ASSERT_TRUE(act(RoutineAction::Resume));
  clock_.advance(40min);
  // The session window runs from when the massager went on, in real time:
  // paused and reloaded or not, it is over 15 minutes after it began.
  const Duration on = physical_.on_time("massager", Capability::Massager, kEvening, clock_.now());
  EXPECT_LE(on, Duration(15min));
  EXPECT_EQ(physical_.on_time("massager", Capability::Massager, kEvening + 15min, clock_.now()),
            Duration(0));
}

TEST_F(HubTest, AMassagerSwitchedOnFromOutsideGetsAGentleStartAndTheSessionLimit) {
  start();
  sim("massager").change_by_hand(massager(true, 80));  // its own button
  settle();
  EXPECT_EQ(physical("massager").intensity, pct(30));
  clock_.advance(14min);
  EXPECT_EQ(physical("massager").massager_on, true);
  clock_.advance(1min + 1s);
  EXPECT_EQ(physical("massager").massager_on, false);
}

TEST_F(HubTest, ASoundMachineSwitchedOnFromOutsideGetsItsAutoOff) {
  start();
  sim("sound").change_by_hand(sound(true, 90));
  settle();
  EXPECT_EQ(physical("sound").volume, pct(50));
  clock_.advance(12h + 1s);
  EXPECT_EQ(physical("sound").sound_on, false);
}

TEST_F(HubTest, SoundAutoOffCountsFromWhenTheSoundWentOnAcrossReloadsAndRestarts) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6h);
  reload(example_config_text());
  clock_.advance(3h);
  start();  // a crash and a restart
  clock_.advance(2h + 59min);
  EXPECT_EQ(physical("sound").sound_on, true);
  clock_.advance(2min);
  EXPECT_EQ(physical("sound").sound_on, false) << "12 h after it went on, not after the restart";
}

TEST_F(HubTest, TheChildsAgeIsTheHubsLocalCalendarDate) {
  // Los Angeles, 20:00 on 26 November = 04:00 UTC on 27 November. A baby
  // born on 27 August is 3 months old on the 27th: by the UTC date already,
  // by the local date not until tomorrow.
  auto text = with(example_config_text(), "time_zone = \"Europe/London\"",
                   "time_zone = \"America/Los_Angeles\"");
  text = with(text, "birth_date = 2026-09-01", "birth_date = 2026-08-27");
  clock_.advance_to(time_point_cast<milliseconds>(sys_days{year{2026} / 11 / 27} + 4h));
  start(text);
  ASSERT_TRUE(set("massager", massager(true, 30)));
  clock_.advance(15min + 1s);
  EXPECT_EQ(physical("massager").massager_on, false)
      << "15 min, the 6-12 week limit, on the evening before the birthday";
}

TEST_F(HubTest, AnAutoOffThatCouldNotBeSentIsSentWhenTheDeviceReturns) {
  start();
  ASSERT_TRUE(set("sound", sound(true, 30)));
  clock_.advance(11h);
  sim("sound").set_reachable(false);
  clock_.advance(2h);  // the auto-off at 12 h could not reach it
  EXPECT_EQ(physical("sound").sound_on, true);
  sim("sound").set_reachable(true);
  settle();
  EXPECT_EQ(physical("sound").sound_on, false);
}

TEST_F(HubTest, AMassagerThatReturnsAfterItsWindowIsSwitchedOffAndNeverRestarted) {
  auto text =
      with(example_config_text() + kLongMassage, "kind = \"massager\"\nnative_transition = true",
           "kind = \"massager\"\nnative_transition = true\nown_timer = false");
  start(text);
  ASSERT_TRUE(act(RoutineAction::Start, "long-massage"));
  clock_.advance(5min);
  sim("massager").set_reachable(false);
  clock_.advance(15min);  // the session ended while it could not be told
  EXPECT_EQ(physical("massager").massager_on, true);
  sim("massager").set_reachable(true);
  settle();
  EXPECT_EQ(physical("massager").massager_on, false);
  clock_.advance(10min);
  EXPECT_EQ(physical("massager").massager_on, false) << "the routine still wants it: refused";
}

TEST_F(HubTest, AMassagerWithItsOwnTransitionRisesOnceTheGentleStartIsOver) {
  start(example_config_text() + R"(
[[routines]]
id = "rising"
  [[routines.steps]]
  at = "0s"
  role = "massager"
  fade = "2m"
  on = true
  intensity = 0.45
)");
  ASSERT_TRUE(act(RoutineAction::Start, "rising"));
  EXPECT_EQ(physical("massager").intensity, pct(30)) << "a session starts at 30 %";
  clock_.advance(5s);
  EXPECT_EQ(physical("massager").intensity, pct(45)) << "then rises, within the same fade";
}

TEST_F(HubTest, AStepThatRepeatsAClampedValueGetsWhatTheLimitAllowsThen) {
  start(example_config_text() + R"(
[[routines]]
id = "strong"
  [[routines.steps]]
  at = "0s"
  role = "massager"
  on = true
  intensity = 1.0
  [[routines.steps]]
  at = "1m"
  role = "massager"
  intensity = 1.0
)");
  ASSERT_TRUE(act(RoutineAction::Start, "strong"));
  EXPECT_EQ(physical("massager").intensity, pct(30));
  clock_.advance(30s);
  EXPECT_EQ(physical("massager").intensity, pct(30)) << "no jolt a moment after the start";
  clock_.advance(31s);
  EXPECT_EQ(physical("massager").intensity, pct(60)) << "the next step asks again: the cap";
}

TEST_F(HubTest, AReloadOrARestartDoesNotGiveARunningMassageAGentleStartAgain) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(13min);
  ASSERT_EQ(physical("massager").intensity, pct(45));
  reload(example_config_text());
  settle();
  EXPECT_EQ(physical("massager").intensity, pct(45));
  start();
  EXPECT_EQ(physical("massager").intensity, pct(45));
  EXPECT_TRUE(events("clamp").empty());
}

TEST_F(HubTest, SessionsDoNotChainWhoeverSwitchesTheMassagerOn) {
  start();
  const TimePoint t0 = clock_.now();
  for (int i = 0; i < 5; ++i) {
    (void)set("massager", massager(true, 30));
    clock_.advance(9min);
    (void)set("massager", massager(false));
    clock_.advance(3s);
  }
  EXPECT_LE(physical_.on_time("massager", Capability::Massager, t0, clock_.now()), Duration(15min));
}

TEST_F(HubTest, ASessionRightAfterAnAutoOffIsRefusedAndSaysUntilWhen) {
  start();
  ASSERT_TRUE(set("massager", massager(true, 30)));
  clock_.advance(15min + 1s);
  ASSERT_EQ(physical("massager").massager_on, false);
  auto r = set("massager", massager(true));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->applied.massager_on, false);
  ASSERT_EQ(r->clamps.size(), 1u);
  EXPECT_NE(r->clamps[0].reason.find("can start at 20:"), std::string::npos) << r->clamps[0].reason;
  EXPECT_EQ(physical("massager").massager_on, false);
}

TEST_F(HubTest, AMassagerSwitchedOnByHandWhenNoSessionMayRunIsSwitchedOffWithinItsCapAtOnce) {
  start();
  ASSERT_TRUE(set("massager", massager(true, 30)));
  clock_.advance(15min + 1s);  // the session's auto-off
  ASSERT_EQ(physical("massager").massager_on, false);
  const auto before = sim("massager").commands_received();
  sim("massager").change_by_hand(massager(true, 90));
  settle();
  EXPECT_EQ(physical("massager").massager_on, false);
  EXPECT_EQ(physical("massager").intensity, pct(60)) << "staged beyond the cap";
  EXPECT_EQ(sim("massager").commands_received(), before + 1) << "in one command";
}

TEST_F(HubTest, AMassagerWhoseOffNeverLandedIsSwitchedOffWhenItReturnsAfterItsWindow) {
  auto text =
      with(example_config_text(), "kind = \"massager\"\nnative_transition = true",
           "kind = \"massager\"\nnative_transition = true\nown_timer = false");
  start(text);
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);  // the massage began at 5 min: its window ends at 20 min
  ASSERT_EQ(physical("massager").massager_on, true);
  sim("massager").set_reachable(false);
  clock_.advance(2min);
  ASSERT_TRUE(act(RoutineAction::Stop));  // its "off" cannot reach it
  clock_.advance(15min);
  sim("massager").set_reachable(true);
  settle();
  EXPECT_EQ(physical("massager").massager_on, false);
  clock_.advance(10min);
  EXPECT_EQ(physical("massager").massager_on, false) << "not restarted as a new session";
}

TEST_F(HubTest, AMassagerWhoseIntensityIsUnknownStartsASessionAtTheStartLevel) {
  start();
  // It kept a level the hub was never told of (set before the hub knew it).
  world_.find("massager")->state.intensity = pct(50);
  ASSERT_TRUE(set("massager", massager(true)));
  const auto& log = physical_.of("massager");
  auto first_on = std::find_if(log.begin(), log.end(),
                               [](const auto& e) { return e.state.massager_on == true; });
  ASSERT_NE(first_on, log.end());
  EXPECT_EQ(first_on->state.intensity, pct(30)) << "it started at " << describe(first_on->state);
}

TEST_F(HubTest, AMassageWhoseSwitchOnWasLostStartsGentlyWhenItFinallyGoesOn) {
  start(example_config_text() + R"(
[[routines]]
id = "firm"
  [[routines.steps]]
  at = "0s"
  role = "massager"
  on = true
  intensity = 0.5
  [[routines.steps]]
  at = "30m"
  role = "massager"
  on = false
)");
  sim("massager").set_reachable(false);
  ASSERT_TRUE(act(RoutineAction::Start, "firm"));  // its "on" is lost
  clock_.advance(1min);
  sim("massager").set_reachable(true);
  settle();
  EXPECT_EQ(physical("massager").massager_on, true);
  EXPECT_EQ(physical("massager").intensity, pct(30)) << "the session starts now, gently";
}

TEST_F(HubTest, SoundStopsAtTheWakeTimeAfterTheWallClockIsSetForward) {
  start();
  ASSERT_TRUE(set("sound", sound(true, 30)));
  const TimePoint wake = clock_.now() + 5h;
  hub_->set_wake_time("nursery", wake);
  clock_.jump(1h);  // NTP: the clock was an hour behind
  clock_.advance_to(wake - 1s);
  ASSERT_EQ(physical("sound").sound_on, true);
  clock_.advance_to(wake + 1s);
  EXPECT_EQ(physical("sound").sound_on, false) << "off at the wake time the clock now shows";
}

TEST_F(HubTest, ASoundSwitchedOnWhileTheDiskIsFullKeepsItsAutoOffAcrossARestart) {
  start();
  disk_.full = true;
  const TimePoint on = clock_.now();
  ASSERT_TRUE(set("sound", sound(true, 30)));  // when it went on cannot be stored yet
  clock_.advance(1min);
  disk_.full = false;
  clock_.advance(3s);  // stored on a retry
  start();             // a crash, then a new hub
  clock_.advance_to(on + 12h - 1s);
  ASSERT_EQ(physical("sound").sound_on, true);
  clock_.advance_to(on + 12h + 1s);
  EXPECT_EQ(physical("sound").sound_on, false) << "12 h after it went on, not after the restart";
}

TEST_F(HubTest, ShutdownLeavesTheMassagerOffAndTheRunOpen) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  shutdown();
  EXPECT_EQ(physical("massager").massager_on, false);
  EXPECT_FALSE(runs()[0].outcome);
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
  EXPECT_EQ(physical("night-light").brightness, pct(60));
  EXPECT_EQ(physical("night-light").color_temp, 4000);
}

TEST_F(HubTest, AnUnreachableDeviceIsShownAndCaughtUpToWhereTheRoutineIsNow) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(1min);  // half way up the light's 2-minute rise
  sim("night-light").set_reachable(false);
  EXPECT_FALSE(device_status("night-light").available());
  EXPECT_EQ(device_status("night-light").availability, Availability::Unavailable);
  EXPECT_FALSE(device_status("night-light").availability_reason.empty());
  EXPECT_EQ(set("night-light", light(std::nullopt, 5)).error().http_status, 503);
  const auto before = physical("night-light").brightness;
  EXPECT_LT(*before, pct(10));
  clock_.advance(5min);
  EXPECT_EQ(physical("night-light").brightness, before) << "out of range: nothing arrives";
  const auto commands = sim("night-light").commands_received();
  sim("night-light").set_reachable(true);
  settle();
  EXPECT_TRUE(device_status("night-light").available());
  EXPECT_EQ(physical("night-light").brightness, pct(10)) << "where the routine is now";
  EXPECT_EQ(sim("night-light").commands_received(), commands + 1) << "not a replay";
}

TEST_F(HubTest, AReloadDuringAMassageLetsItGoOnUninterrupted) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  const auto commands = sim("massager").commands_received();
  Device* before = hub_->device("massager");
  reload(example_config_text());
  EXPECT_EQ(hub_->device("massager"), before) << "an unchanged device is kept as it is";
  EXPECT_EQ(physical("massager").massager_on, true);
  EXPECT_EQ(sim("massager").commands_received(), commands) << "nothing sent: it already has it";
  clock_.advance(14min - 1s);
  EXPECT_EQ(physical("massager").massager_on, true);
  clock_.advance(2s);
  EXPECT_EQ(physical("massager").massager_on, false) << "the session keeps its start";
}

TEST_F(HubTest, AReloadThatNoLongerKeepsAMassageOnSwitchesItOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  std::string text = example_config_text();
  // The new config renames the routine: the open run cannot be resumed.
  for (auto at = text.find("id = \"bedtime\""); at != std::string::npos;
       at = text.find("id = \"bedtime\"", at + 1))
    text.replace(at, 14, "id = \"evening\"");
  text = with(text, "default_routine = \"bedtime\"", "default_routine = \"evening\"");
  reload(text);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(physical("massager").massager_on, false);
}

TEST_F(HubTest, AReloadThatDropsARunningMassagerSwitchesItOffFirst) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  ASSERT_EQ(physical("massager").massager_on, true);
  World::Physical* massager_hw = world_.find("massager");
  // The massager is renamed: as far as the hub knows, a device leaves.
  reload(with(example_config_text(), "id = \"massager\"", "id = \"wand\""));
  ASSERT_NE(massager_hw, nullptr);
  EXPECT_EQ(massager_hw->state.massager_on, false);
}

TEST_F(HubTest, ASlowDeviceWhoseConfigChangesGetsItsOffBeforeItIsReplaced) {
  // A sound machine that takes 2 s to act: the "off" that makes it safe as
  // it leaves must land before the old driver is dropped.
  const std::string slow =
      with(example_config_text(), "kind = \"sound\"", "kind = \"sound\"\nlatency = \"2s\"");
  start(slow);
  ASSERT_TRUE(set("sound", sound(true, 30)));
  clock_.advance(3s);
  ASSERT_EQ(physical("sound").sound_on, true);
  reload(with(slow, "latency = \"2s\"", "latency = \"1s\""));
  clock_.advance(3s);
  EXPECT_EQ(physical("sound").sound_on, false);
}

TEST_F(HubTest, AnUnreachableDeviceWhoseConfigChangesIsSwitchedOffWhenItReturns) {
  start();
  ASSERT_TRUE(set("sound", sound(true, 30)));
  sim("sound").set_reachable(false);
  // Its block changes while it cannot be told to stop: the sound must not
  // play on unsupervised, nor have its auto-off counted from its return.
  reload(with(example_config_text(), "kind = \"sound\"", "kind = \"sound\"\nlatency = \"1s\""));
  clock_.advance(1min);
  sim("sound").set_reachable(true);
  clock_.advance(2s);
  EXPECT_EQ(physical("sound").sound_on, false);
}

TEST_F(HubTest, ASoundThatLeftTheConfigWhileUnreachableIsSwitchedOffWhenItIsBack) {
  start();
  ASSERT_TRUE(set("sound", sound(true, 30)));
  sim("sound").set_reachable(false);
  auto without = example_config_text();
  const auto from = without.find("[[devices]]\nid = \"sound\"");
  without.erase(from, without.find("[[devices]]\nid = \"massager\"") - from);
  reload(without);  // it cannot be told to stop
  world_.find("sound")->reachable = true;
  clock_.advance(1h);
  reload(example_config_text());  // back in the config, heard again
  EXPECT_EQ(physical("sound").sound_on, false);
}

TEST_F(HubTest, ADeviceThatCannotBeCreatedIsUnavailableNotFatal) {
  failing_device_ = "sound";
  start();
  const auto sound_status = device_status("sound");
  EXPECT_EQ(sound_status.availability, Availability::Unavailable);
  EXPECT_NE(sound_status.availability_reason.find("refused"), std::string::npos);
  ASSERT_TRUE(act(RoutineAction::Start)) << "the rest of the room works";
  clock_.advance(6min);
  EXPECT_EQ(physical("massager").massager_on, true);
}

TEST_F(HubTest, ALightAndSoundDeviceHasItsLightOffAndItsSoundOn) {
  auto text = example_config_text() + R"(
[[devices]]
id = "rest"
name = "Hatch Rest"
room = "nursery"
driver = "simulated"
kind = "light+sound"
)";
  start(text);
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(46min);  // lights out at 45 min, white noise plays on
  EXPECT_EQ(physical("rest").light_on, false);
  EXPECT_EQ(physical("rest").sound_on, true);
  // And by hand, one capability at a time.
  DeviceValues light_on;
  light_on.light_on = true;
  ASSERT_TRUE(set("rest", light_on));
  EXPECT_EQ(physical("rest").light_on, true);
  EXPECT_EQ(physical("rest").sound_on, true);
  ASSERT_TRUE(set("rest", {}, false));  // {"on":false}: the whole device
  EXPECT_EQ(physical("rest").light_on, false);
  EXPECT_EQ(physical("rest").sound_on, false);
}

TEST_F(HubTest, AWallClockJumpDoesNotMoveARunningRoutine) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(3min);
  const int step = routine().step_index;
  clock_.jump(3h);  // NTP syncs a Pi that booted with a stale clock
  EXPECT_EQ(routine().step_index, step);
  EXPECT_EQ(routine().started_at, kEvening + 3h) << "the run's times move with the clock";
  EXPECT_EQ(physical("massager").massager_on, false);
  clock_.advance(2min + 1s);
  EXPECT_EQ(physical("massager").massager_on, true) << "the massage step, 5 min in";
  clock_.jump(-5h);
  clock_.advance(1min);
  EXPECT_EQ(routine().step_index, 2);
  EXPECT_EQ(events("clock_jump").size(), 2u);
  EXPECT_EQ(store_->open_runs()->at(0).started_at, kEvening + 3h - 5h);
}

TEST_F(HubTest, NightLimitsHoldAcrossAWallClockSetBackThenAReloadOrARestart) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  ASSERT_TRUE(act(RoutineAction::Stop));  // night goes on after the routine
  ASSERT_TRUE(set("night-light", light(true, 10)));
  clock_.jump(-2h);  // NTP sets the clock back: the run's stored start is "in the future"
  const auto tighter =
      with(example_config_text(), "night_max_brightness = 0.1", "night_max_brightness = 0.05");
  reload(tighter);
  EXPECT_EQ(physical("night-light").brightness, pct(5)) << "after the reload";
  ASSERT_TRUE(set("night-light", light(true, 100)));
  start(tighter);
  EXPECT_EQ(physical("night-light").brightness, pct(5)) << "after a restart";
}

TEST_F(HubTest, APauseAcrossAClockJumpCountsItsRealLength) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(2min);
  ASSERT_TRUE(act(RoutineAction::Pause));
  clock_.advance(1min);
  clock_.jump(-2h);  // the pause began "in the future" of the new clock
  clock_.advance(1min);
  ASSERT_TRUE(act(RoutineAction::Resume));
  EXPECT_EQ(routine().ends_at, clock_.now() + 43min) << "2 min done, 43 to go";
  EXPECT_EQ(paused_time(store_->open_runs()->at(0), clock_.now()), Duration(2min));
}

TEST_F(HubTest, EveryCommandIsStoredWithItsSource) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  ASSERT_TRUE(set("night-light", light(std::nullopt, 5)));
  sim("sound").change_by_hand(sound(std::nullopt, 20));
  settle();
  EXPECT_EQ(events("routine_started").at(0).source, "control");
  EXPECT_EQ(events("manual").at(0).source, "control");
  EXPECT_EQ(events("override").at(0).source, "device");
}

}  // namespace
}  // namespace nursery::testing

namespace nursery::testing {
namespace {

using FullDiskTest = HubFixture;

TEST_F(FullDiskTest, AStopThatCannotBeStoredStillStopsAnswers507AndIsStoredLater) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  disk_.full = true;
  auto stopped = act(RoutineAction::Stop);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code, "storage_full");
  EXPECT_EQ(stopped.error().http_status, 507);
  EXPECT_NE(stopped.error().message.find("stopped"), std::string::npos) << stopped.error().message;
  EXPECT_EQ(physical("massager").massager_on, false) << "the safe direction acts at once";
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_FALSE(hub_->status().store_problem.empty());
  EXPECT_NE(hub_->summary().find("storage"), std::string::npos);
  clock_.advance(1min);
  disk_.full = false;
  clock_.advance(2min);  // the retry stores it
  EXPECT_TRUE(hub_->status().store_problem.empty());
  EXPECT_EQ(runs()[0].outcome, Outcome::Stopped);
  start();  // and a restart does not bring the stopped routine back
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(physical("night-light").light_on, true) << "left as it was; nothing switched on again";
}

TEST_F(FullDiskTest, APauseThatCannotBeStoredStillSwitchesTheMassagerOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  disk_.full = true;
  auto paused = act(RoutineAction::Pause);
  ASSERT_FALSE(paused);
  EXPECT_EQ(paused.error().http_status, 507);
  EXPECT_EQ(physical("massager").massager_on, false);
  EXPECT_EQ(routine().state, RoutineState::Paused);
}

TEST_F(FullDiskTest, AResumeThatCannotBeStoredIsRefusedAndChangesNothing) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(6min);
  ASSERT_TRUE(act(RoutineAction::Pause));
  disk_.full = true;
  auto resumed = act(RoutineAction::Resume);
  ASSERT_FALSE(resumed);
  EXPECT_EQ(resumed.error().http_status, 507);
  EXPECT_EQ(routine().state, RoutineState::Paused);
  EXPECT_EQ(physical("massager").massager_on, false);
}

TEST_F(FullDiskTest, AStartThatCannotBeStoredIsRefused) {
  start();
  disk_.full = true;
  auto started = act(RoutineAction::Start);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().http_status, 507);
  EXPECT_EQ(routine().state, RoutineState::Idle);
  EXPECT_EQ(physical("night-light").light_on, false);
}

}  // namespace
}  // namespace nursery::testing

namespace nursery::testing {
namespace {

using WakeTest = HubFixture;

TEST_F(WakeTest, TheWakeRoutinesLightIsHeldToTheWakeCeiling) {
  start(example_config_text() + R"(
[[routines]]
id = "floodlight"
kind = "wake"
  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true
  brightness = 1.0
  color_temp = 6500
)");
  ASSERT_TRUE(act(RoutineAction::Start, "floodlight"));
  EXPECT_EQ(physical("night-light").brightness, pct(60));
  EXPECT_EQ(physical("night-light").color_temp, 4000);
}

TEST_F(WakeTest, SoundStopsAtTheWakeTimeWhenItComesBeforeTheAutoOff) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  hub_->set_wake_time("nursery", kEvening + 11h);
  clock_.advance(11h - 1s);
  EXPECT_EQ(physical("sound").sound_on, true);
  clock_.advance(2s);
  EXPECT_EQ(physical("sound").sound_on, false);
  const auto offs = events("auto_off");
  auto sound_off = std::find_if(offs.begin(), offs.end(), [](auto& e) { return e.device == "sound"; });
  ASSERT_NE(sound_off, offs.end());
  EXPECT_NE(sound_off->detail.find("wake time"), std::string::npos) << sound_off->detail;
}

TEST_F(WakeTest, AWakeTimeLaterThanTheAutoOffDoesNotLengthenIt) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  hub_->set_wake_time("nursery", kEvening + 14h);
  clock_.advance(12h + 1s);
  EXPECT_EQ(physical("sound").sound_on, false);
}

}  // namespace
}  // namespace nursery::testing
