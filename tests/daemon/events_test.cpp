// The hub's events: one subscription point, typed, surviving reloads; what
// the MQTT bridge and the panel's live view stand on.
#include "hub_fixture.hpp"

namespace nursery::testing {
namespace {

using EventsTest = HubFixture;

std::vector<event::RoutineChange> changes(const std::vector<event::Routine>& routine_events) {
  std::vector<event::RoutineChange> out;
  for (const auto& e : routine_events) out.push_back(e.change);
  return out;
}

TEST_F(EventsTest, ARoutineIsToldFromStartToEndWithItsSource) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(1min);
  ASSERT_TRUE(act(RoutineAction::Pause));
  ASSERT_TRUE(act(RoutineAction::Resume));
  clock_.advance(50min);
  auto routine = published<event::Routine>();
  ASSERT_GE(routine.size(), 4u);
  EXPECT_EQ(routine.front().change, event::RoutineChange::Started);
  EXPECT_EQ(routine.front().source, CommandSource::Control);
  EXPECT_EQ(routine.front().status.state, RoutineState::Running);
  const auto all = changes(routine);
  EXPECT_NE(std::find(all.begin(), all.end(), event::RoutineChange::Paused), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), event::RoutineChange::Resumed), all.end());
  // 7 steps, two of them at 0 s: the start is at the second, 5 more follow.
  EXPECT_EQ(std::count(all.begin(), all.end(), event::RoutineChange::Step), 5);
  EXPECT_EQ(routine.back().change, event::RoutineChange::Ended);
  EXPECT_EQ(routine.back().outcome, Outcome::Completed);
  EXPECT_EQ(routine.back().routine, "bedtime");
}

TEST_F(EventsTest, AStopIsToldWithWhoStoppedIt) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  ASSERT_TRUE(act(RoutineAction::Stop));
  auto routine = published<event::Routine>();
  ASSERT_FALSE(routine.empty());
  EXPECT_EQ(routine.back().change, event::RoutineChange::Ended);
  EXPECT_EQ(routine.back().outcome, Outcome::Stopped);
  EXPECT_EQ(routine.back().source, CommandSource::Control);
}

TEST_F(EventsTest, DeviceStateClampsOverridesAndAutoOffsAreTold) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(3min);
  DeviceValues loud;
  loud.volume = pct(90);
  ASSERT_TRUE(set("sound", loud));
  auto clamps = published<event::Clamped>();
  ASSERT_EQ(clamps.size(), 1u);
  EXPECT_EQ(clamps[0].device, "sound");
  EXPECT_EQ(clamps[0].clamps.at(0).field, "volume");

  DeviceValues dim;
  dim.brightness = pct(3);
  sim("night-light").change_by_hand(dim);
  settle();
  auto overrides = published<event::Override>();
  ASSERT_EQ(overrides.size(), 1u);
  EXPECT_EQ(overrides[0].held, bit(Capability::Light));

  auto states = published<event::DeviceState>();
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back().device, "night-light");
  EXPECT_EQ(states.back().state.brightness, pct(3));

  clock_.advance(13h);
  auto offs = published<event::AutoOff>();
  ASSERT_FALSE(offs.empty());
  EXPECT_EQ(offs.back().device, "sound");
  EXPECT_EQ(offs.back().capability, Capability::Sound);
}

TEST_F(EventsTest, ASubscriptionSurvivesAReload) {
  start();
  reload(example_config_text());
  EXPECT_EQ(published<event::Reloaded>().size(), 1u);
  ASSERT_TRUE(act(RoutineAction::Start));
  EXPECT_FALSE(published<event::Routine>().empty()) << "told through the same subscription";
}

TEST_F(EventsTest, AvailabilityIsToldWithItsReason) {
  start();
  sim("massager").set_reachable(false);
  auto a = published<event::DeviceAvailability>();
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.back().device, "massager");
  EXPECT_EQ(a.back().availability, Availability::Unavailable);
  EXPECT_FALSE(a.back().reason.empty());
}

}  // namespace
}  // namespace nursery::testing
