// nurseryd --check-config, as an admin runs it before a restart.

#include <gtest/gtest.h>
#include <sysexits.h>

#include <regex>

#include "daemon_process.hpp"

namespace nursery::it {
namespace {

HubSpec small_hub() {
  HubSpec spec;
  spec.routines = {{"bedtime", "bedtime", {{0, "light", {"on = true", "brightness = 0.1"}}}}};
  return spec;
}

ProgramResult check_config(const TestHome& home, const std::filesystem::path& file) {
  return run_program({nurseryd_path().string(), "--check-config", "--config", file.string()},
                     home.dir());
}

TEST(CheckConfig, RejectsABrokenFileWithExitCode78AndTheErrorsLocation) {
  TestHome home;
  // Line 3 has a key without a value.
  auto file = home.write_file("broken.toml", "[hub]\nname = \"Hub\"\ntime_zone =\n");
  auto r = check_config(home, file);
  EXPECT_EQ(r.code(), EX_CONFIG) << r.describe();
  std::regex located(
      std::regex_replace(file.string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
      R"(:3:\d+: \S.*)");
  EXPECT_TRUE(std::regex_search(r.err, located)) << "expected FILE:3:COL: message on stderr\n"
                                                 << r.describe();
}

TEST(CheckConfig, AcceptsAValidFileWithExitCode0) {
  TestHome home;
  home.write_config(small_hub());
  auto r = check_config(home, home.config_file());
  EXPECT_EQ(r.code(), 0) << r.describe();
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.describe();
}

TEST(CheckConfig, AcceptsTheShippedExampleConfig) {
  TestHome home;
  auto r = check_config(home, std::filesystem::path(NURSERY_SOURCE_DIR) / "config/nurseryd.toml");
  EXPECT_EQ(r.code(), 0) << r.describe();
}

TEST(CheckConfig, OnlyWarnsAboutAnUnknownKeyNamingWhereItIs) {
  TestHome home;
  std::string text = to_toml(small_hub());
  ASSERT_TRUE(text.starts_with("[hub]\n"));
  text.insert(std::string("[hub]\n").size(), "colour = \"blue\"\n");  // line 2
  auto file = home.write_file("unknown_key.toml", text);
  auto r = check_config(home, file);
  EXPECT_EQ(r.code(), 0) << r.describe();
  EXPECT_NE(r.err.find(file.string() + ":2:1: warning: unknown key \"colour\""), std::string::npos)
      << r.describe();
}

TEST(CheckConfig, ExitsWith78WhenTheFileIsMissing) {
  TestHome home;
  auto r = check_config(home, home.dir() / "absent.toml");
  EXPECT_EQ(r.code(), EX_CONFIG) << r.describe();
  EXPECT_NE(r.err.find("absent.toml"), std::string::npos) << r.describe();
}

TEST(StartUp, RefusesToStartOnABrokenConfigWithExitCode78) {
  TestHome home;
  home.write_config("[hub]\nname = \n");
  DaemonProcess daemon(home);
  ASSERT_TRUE(daemon.start());
  auto exit = daemon.wait_exit(10s);
  ASSERT_TRUE(exit) << "nurseryd kept running on a broken config\n" << daemon.log();
  EXPECT_TRUE(exit->exited && exit->code == EX_CONFIG) << exit->describe() << "\n" << daemon.log();
  EXPECT_NE(daemon.log().find(home.config_file().string() + ":2:"), std::string::npos)
      << daemon.log();
}

}  // namespace
}  // namespace nursery::it

namespace nursery::it {
namespace {

TEST(StartUp, RefusesAnOutOfRangeTimeScaleWithExitCode64) {
  TestHome home;
  home.write_config(small_hub());
  auto r = run_program(
      {nurseryd_path().string(), "--config", home.config_file().string(), "--time-scale", "0"},
      home.dir());
  EXPECT_EQ(r.code(), EX_USAGE) << r.describe();
  EXPECT_NE(r.err.find("--time-scale"), std::string::npos) << r.describe();
}

TEST(StartUp, ExitsWith73WhenTheStateDirectoryIsMissingAndLeavesNoSocket) {
  TestHome home;
  home.write_config(small_hub());
  auto r =
      run_program({nurseryd_path().string(), "--config", home.config_file().string(), "--state-dir",
                   (home.dir() / "absent").string(), "--runtime-dir", home.runtime_dir().string()},
                  home.dir());
  EXPECT_EQ(r.code(), EX_CANTCREAT) << r.describe();
  EXPECT_NE(r.err.find("absent"), std::string::npos) << r.describe();
  EXPECT_FALSE(std::filesystem::exists(home.socket()));
}

TEST(Demo, PlaysTheShippedBedtimeToItsEndAndExits0) {
  TestHome home;
  // 45 minutes of bedtime at x10000: about a quarter of a second.
  auto r =
      run_program({nurseryd_path().string(), "--config",
                   (std::filesystem::path(NURSERY_SOURCE_DIR) / "config/nurseryd.toml").string(),
                   "--state-dir", home.state_dir().string(), "--runtime-dir",
                   home.runtime_dir().string(), "--time-scale", "10000", "--demo"},
                  home.dir(), {}, 20s);
  EXPECT_EQ(r.code(), 0) << r.describe();
  EXPECT_NE(r.err.find("Massager: on"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("Massager: off"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("bedtime completed"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace nursery::it
