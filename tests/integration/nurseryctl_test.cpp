// nurseryctl against the real daemon, as an admin uses it: exit codes, what
// it prints, and that each command did what it says (checked through the API).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "daemon_process.hpp"

namespace nursery::it {
namespace {

using nlohmann::json;

class Nurseryctl : public ::testing::Test {
 protected:
  void SetUp() override {
    HubSpec spec;
    spec.routines = {{"bedtime",
                      "bedtime",
                      {{0, "light", {"on = true", "brightness = 0.05", "color_temp = 2200"}},
                       {0, "sound", {"on = true", "volume = 0.3"}},
                       {1800, "light", {"brightness = 0.02"}},
                       {3600, "light", {"on = false"}}}}};
    home_.write_config(spec);
    ASSERT_TRUE(daemon_.start_and_wait());
  }

  ProgramResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv{nurseryctl_path().string(), "--socket", home_.socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, home_.dir());
  }

  // Runs a command that must succeed and print something.
  std::string ok(std::vector<std::string> args) {
    auto r = ctl(args);
    EXPECT_EQ(r.code(), 0) << r.describe();
    EXPECT_FALSE(r.out.empty()) << r.describe();
    return r.out;
  }

  json routine() { return room_routine(status_of(daemon_)); }

  TestHome home_;
  DaemonProcess daemon_{home_};
};

TEST_F(Nurseryctl, StatusPrintsTheHubItsRoomAndDevices) {
  std::string out = ok({"status"});
  EXPECT_NE(out.find("Test hub"), std::string::npos) << out;
  EXPECT_NE(out.find("Nursery: idle"), std::string::npos) << out;
  EXPECT_NE(out.find("Night light"), std::string::npos) << out;
  EXPECT_NE(out.find("Massager"), std::string::npos) << out;
}

TEST_F(Nurseryctl, JsonStatusPrintsValidJson) {
  std::string out = ok({"--json", "status"});
  json parsed = json::parse(out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << out;
  EXPECT_EQ(parsed["hub"]["name"], "Test hub");
}

TEST_F(Nurseryctl, DrivesARoutineThroughStartPauseResumeSkipAndStop) {
  std::string out = ok({"start"});
  EXPECT_NE(out.find("bedtime running"), std::string::npos) << out;
  EXPECT_EQ(routine()["state"], "running");
  const int first_index = routine()["step_index"].get<int>();

  out = ok({"pause"});
  EXPECT_NE(out.find("paused"), std::string::npos) << out;
  EXPECT_EQ(routine()["state"], "paused");

  out = ok({"resume"});
  EXPECT_NE(out.find("running"), std::string::npos) << out;
  EXPECT_EQ(routine()["state"], "running");

  out = ok({"skip"});
  EXPECT_EQ(routine()["step_index"].get<int>(), first_index + 1) << out;
  EXPECT_NE(out.find(fmt::format("step {} of 4", first_index + 2)), std::string::npos) << out;

  out = ok({"stop"});
  EXPECT_NE(out.find("idle"), std::string::npos) << out;
  EXPECT_EQ(routine()["state"], "idle");

  out = ok({"runs"});
  EXPECT_NE(out.find("bedtime"), std::string::npos) << out;
  EXPECT_NE(out.find("stopped"), std::string::npos) << out;
}

TEST_F(Nurseryctl, SetReportsTheValueAppliedAndTheClamp) {
  std::string out = ok({"set", "nursery", "sound", "volume=0.9"});
  EXPECT_NE(out.find("volume 50%"), std::string::npos) << out;
  EXPECT_NE(out.find("limited"), std::string::npos) << out;
  EXPECT_DOUBLE_EQ(device_in(status_of(daemon_), "sound")["state"]["volume"].get<double>(), 0.5);
}

TEST_F(Nurseryctl, ARefusedCommandExitsNonZeroWithTheServersMessage) {
  auto r = ctl({"pause"});
  EXPECT_EQ(r.code(), 1) << r.describe();
  EXPECT_NE(r.err.find("No routine is running in Nursery."), std::string::npos) << r.describe();
}

TEST_F(Nurseryctl, ExitsWith3WhenNothingAnswersOnTheSocket) {
  auto r = run_program(
      {nurseryctl_path().string(), "--socket", (home_.dir() / "absent.sock").string(), "status"},
      home_.dir());
  EXPECT_EQ(r.code(), 3) << r.describe();
  EXPECT_FALSE(r.err.empty()) << r.describe();
}

}  // namespace
}  // namespace nursery::it
