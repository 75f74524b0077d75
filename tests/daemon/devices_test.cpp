// The device interface with devices that answer late, fail, report on the
// way through a fade, lose their link and report a battery — through the
// real hub and simulated devices configured to behave so.
#include <fmt/format.h>

#include "hub_fixture.hpp"

namespace nursery::testing {
namespace {

using DevicesTest = HubFixture;

// The example config with extra keys for one device's [[devices]] block.
std::string with_device_keys(std::string_view id, std::string_view keys) {
  return with(example_config_text(), fmt::format("id = \"{}\"", id),
              fmt::format("id = \"{}\"\n{}", id, keys));
}

DeviceValues brightness(double percent) {
  DeviceValues v;
  v.brightness = pct(percent);
  return v;
}

TEST_F(DevicesTest, ALateAnswerIsNotAManualOverride) {
  start(with_device_keys("night-light", "latency = \"3s\""));
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(50min);
  EXPECT_TRUE(events("override").empty());
  EXPECT_EQ(physical("night-light").light_on, false) << "the routine still ran to its end";
}

TEST_F(DevicesTest, AReportMidFadeIsNotAManualOverride) {
  // The light fades natively and reports halfway values on the way.
  auto text = with_device_keys("night-light", "report_steps = true");
  start(with(text, "native_transition = false", "native_transition = true"));
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(50min);
  EXPECT_TRUE(events("override").empty());
  EXPECT_EQ(physical("night-light").light_on, false);
}

TEST_F(DevicesTest, AWallSwitchIsStillAManualOverride) {
  start(with_device_keys("night-light", "latency = \"1s\"\nreport_steps = true"));
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(3min);
  sim("night-light").change_by_hand(brightness(6));
  settle();
  EXPECT_EQ(events("override").size(), 1u);
  EXPECT_EQ(device_status("night-light").overridden, bit(Capability::Light));
}

TEST_F(DevicesTest, AnAnswerToAnOlderCommandArrivingAfterANewerOneIsNotAnOverride) {
  start(with_device_keys("night-light", "latency = \"2s\""));
  ASSERT_TRUE(set("night-light", brightness(40)));
  clock_.advance(500ms);
  ASSERT_TRUE(set("night-light", brightness(70)));
  clock_.advance(1600ms);  // the first answer (40 %) arrives while 70 % is on its way
  EXPECT_TRUE(events("override").empty());
  clock_.advance(2s);
  EXPECT_EQ(physical("night-light").brightness, pct(70));
  EXPECT_EQ(device_status("night-light").state.brightness, pct(70));
  EXPECT_TRUE(events("override").empty());
}

TEST_F(DevicesTest, ACommandThatGetsNoAnswerTimesOutAndTheStatusSaysSo) {
  start();
  ASSERT_TRUE(act(RoutineAction::Start));
  clock_.advance(1min);
  // It stops answering, though its link seems up: commands are lost.
  world_.find("night-light")->reachable = false;
  clock_.advance(20s);
  // Each command times out; the routine asks again (the status shows the
  // command on its way, and what became of the one before).
  const auto status = device_status("night-light");
  EXPECT_NE(status.command.reason.find("no answer within 10 s"), std::string::npos)
      << status.command.reason;
  const auto results = published<event::CommandResult>();
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results.back().outcome, CommandOutcome::TimedOut);
}

TEST_F(DevicesTest, ARoutineCommandThatFailedIsAskedForAgain) {
  start(with_device_keys("sound", "fail_every = 1"));
  ASSERT_TRUE(act(RoutineAction::Start));
  EXPECT_EQ(device_status("sound").command.state, CommandState::Failed);
  EXPECT_EQ(device_status("sound").command.reason, "simulated failure");
  const auto tried = sim("sound").commands_received();
  clock_.advance(10s);
  EXPECT_GT(sim("sound").commands_received(), tried) << "retried with backoff";
}

TEST_F(DevicesTest, AnAutoOffThatFailedIsRetriedUntilItSucceeds) {
  // Every second command fails: the switch-on works, the auto-off does not.
  start(with_device_keys("massager", "fail_every = 2\nown_timer = false"));
  DeviceValues on;
  on.massager_on = true;
  ASSERT_TRUE(set("massager", on));
  clock_.advance(15min + 1s);
  clock_.advance(5s);
  EXPECT_EQ(physical("massager").massager_on, false);
}

TEST_F(DevicesTest, AvailabilityHasAReasonAndTheBatteryIsShown) {
  start(with_device_keys("massager", "battery = 80"));
  EXPECT_EQ(device_status("massager").battery, 80);
  EXPECT_EQ(device_status("massager").availability, Availability::Available);
  sim("massager").set_battery(15);
  EXPECT_EQ(device_status("massager").battery, 15);
  sim("massager").set_reachable(false);
  EXPECT_EQ(device_status("massager").availability, Availability::Unavailable);
  EXPECT_EQ(device_status("massager").availability_reason, "out of range (simulated)");
  auto batteries = published<event::DeviceBattery>();
  ASSERT_FALSE(batteries.empty());
  EXPECT_EQ(batteries.back().percent, 15);
}

TEST_F(DevicesTest, ADeviceUnreachableAtStartIsUnavailableNotFatal) {
  start();
  sim("sound").set_reachable(false);
  start();  // restart while the sound machine is out of range
  EXPECT_EQ(device_status("sound").availability, Availability::Unavailable);
  ASSERT_TRUE(act(RoutineAction::Start));
  sim("sound").set_reachable(true);
  settle();
  EXPECT_EQ(physical("sound").sound_on, true) << "caught up when it came";
}

TEST_F(DevicesTest, AReloadKeepsDevicesWhoseConfigDidNotChangeAndRecreatesTheOthers) {
  start();
  Device* light = hub_->device("night-light");
  Device* sound = hub_->device("sound");
  const auto availability_events = published<event::DeviceAvailability>().size();
  reload(with(example_config_text(), "name = \"Sound machine\"", "name = \"White noise\""));
  EXPECT_EQ(hub_->device("night-light"), light) << "no reconnect storm";
  EXPECT_NE(hub_->device("sound"), sound);
  EXPECT_EQ(hub_->device("sound")->name(), "White noise");
  // Only the new sound machine announced itself.
  EXPECT_EQ(published<event::DeviceAvailability>().size(), availability_events + 1);
}

TEST_F(DevicesTest, WhatARemovedDeviceStillPostsNeverRuns) {
  start();
  bool ran = false;
  // A driver's callback that would run on the loop after its device left.
  // (The simulated driver posts through its host like any driver.)
  struct Poster final : Device {
    Poster(const config::DeviceConfig& c, DeviceHost& h, bool& flag)
        : Device(c), host(h), ran(flag) {}
    std::string_view driver() const override { return "poster"; }
    Capabilities capabilities() const override { return bit(Capability::Light); }
    bool native_transition(Capability) const override { return false; }
    void start() override { host.availability(Availability::Available); }
    void apply(const DeviceCommand& c) override {
      host.post([this] { ran = true; });
      host.command_result(c.id, CommandOutcome::Done);
    }
    DeviceHost& host;
    bool& ran;
  };
  hub_.reset();
  hub_ = std::make_unique<Hub>(
      clock_, *store_, sink_, events_,
      [&](const config::DeviceConfig& c, DeviceHost& host) -> Expected<std::unique_ptr<Device>> {
        if (c.id == "night-light")
          return std::unique_ptr<Device>(std::make_unique<Poster>(c, host, ran));
        return plugins::create_device(c, host, environment_);
      });
  hub_->start(load(example_config_text()));
  ASSERT_TRUE(hub_->set_device("nursery", "night-light",
                               DeviceRequest{{}, true, Duration{0}, CommandSource::Control}));
  // Before the loop turns, the device leaves the config.
  hub_->reload(load(with(example_config_text(), "id = \"night-light\"", "id = \"lamp\"")));
  clock_.advance(1s);
  EXPECT_FALSE(ran);
}

TEST_F(DevicesTest, ShutdownWaitsForAnOrderlyStopWithinItsDeadline) {
  struct SlowStopper final : Device {
    SlowStopper(const config::DeviceConfig& c, DeviceHost& h) : Device(c), host(h) {}
    std::string_view driver() const override { return "slow"; }
    Capabilities capabilities() const override { return bit(Capability::Light); }
    bool native_transition(Capability) const override { return false; }
    void start() override { host.availability(Availability::Available); }
    void apply(const DeviceCommand& c) override { host.command_result(c.id, CommandOutcome::Done); }
    void stop(std::function<void()> done) override {
      alarm = host.clock().make_alarm();
      alarm->set(host.clock().now() + std::chrono::seconds(1), std::move(done));
    }
    DeviceHost& host;
    std::unique_ptr<Alarm> alarm;
  };
  hub_ = std::make_unique<Hub>(
      clock_, *store_, sink_, events_,
      [&](const config::DeviceConfig& c, DeviceHost& host) -> Expected<std::unique_ptr<Device>> {
        if (c.id == "night-light")
          return std::unique_ptr<Device>(std::make_unique<SlowStopper>(c, host));
        return plugins::create_device(c, host, environment_);
      });
  hub_->start(load(example_config_text()));
  bool done = false;
  hub_->shutdown(std::chrono::seconds(3), [&] { done = true; });
  clock_.advance(500ms);
  EXPECT_FALSE(done) << "the light is still stopping";
  clock_.advance(600ms);
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace nursery::testing
