#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include "test_drivers.hpp"

namespace nursery::config {
namespace {

using Severity = Diagnostic::Severity;
using std::chrono::minutes;

LoadResult load(std::string_view text) {
  return load_string(text, "test.toml", testing::test_drivers());
}

std::vector<Diagnostic> with_severity(const LoadResult& result, Severity severity) {
  std::vector<Diagnostic> found;
  for (const auto& d : result.diagnostics)
    if (d.severity == severity) found.push_back(d);
  return found;
}

std::string describe(const LoadResult& result) {
  std::string text;
  for (const auto& d : result.diagnostics) text += d.to_string() + "\n";
  return text;
}

// A room and the routine it defaults to, to build on.
constexpr std::string_view kRoomAndBedtime = R"([[rooms]]
id = "nursery"

[[routines]]
id = "bedtime"
  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true
)";

TEST(ConfigLoader, LoadsAnEmptyFileWithEveryDefault) {
  const auto result = load("");
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_TRUE(result.diagnostics.empty());
  const Config& c = *result.config;
  EXPECT_EQ(c.source, "test.toml");
  EXPECT_EQ(c.hub.name, HubConfig{}.name);
  EXPECT_EQ(c.hub.time_zone, "UTC");
  EXPECT_EQ(c.child.birth_date, std::nullopt);
  EXPECT_EQ(c.safety.sound.max_volume, SoundSafety{}.max_volume);
  EXPECT_EQ(c.safety.massage.session_from_3_months, MassageSafety{}.session_from_3_months);
  EXPECT_TRUE(c.rooms.empty());
  EXPECT_TRUE(c.devices.empty());
  EXPECT_TRUE(c.routines.empty());
}

TEST(ConfigLoader, ReportsUnknownKeyAsWarningWithItsLocation) {
  const auto result = load("[hub]\nname = \"Hub\"\n  brightnes = 3\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->hub.name, "Hub");
  ASSERT_EQ(result.diagnostics.size(), 1u);
  const auto& d = result.diagnostics[0];
  EXPECT_EQ(d.severity, Severity::Warning);
  EXPECT_EQ(d.to_string(), "test.toml:3:3: warning: unknown key \"brightnes\" in [hub]");
}

TEST(ConfigLoader, ReportsUnknownKeyInAStepAsWarning) {
  std::string text(kRoomAndBedtime);
  text += "  brightnes = 0.5\n";  // line 10
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:10:3: warning: unknown key \"brightnes\" in [[routines.steps]]");
}

TEST(ConfigLoader, ReportsUnknownTopLevelTablesAndSafetyKeysAsWarnings) {
  const auto result = load("[mqtt]\nhost = \"x\"\n[safety]\nsmoke = 1\n[safety.sound]\nloud = 1\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.diagnostics.size(), 3u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:1:2: warning: unknown key \"mqtt\" in the top level");
  EXPECT_EQ(result.diagnostics[1].to_string(),
            "test.toml:4:1: warning: unknown key \"smoke\" in [safety]");
  EXPECT_EQ(result.diagnostics[2].to_string(),
            "test.toml:6:1: warning: unknown key \"loud\" in [safety.sound]");
}

TEST(ConfigLoader, ReportsAKeyTheDriverDoesNotTakeAsWarning) {
  std::string text(kRoomAndBedtime);
  text +=
      "[[devices]]\n"         // 10
      "id = \"lamp\"\n"       // 11
      "room = \"nursery\"\n"  // 12
      "driver = \"simulated\"\n"
      "kind = \"light\"\n"
      "colour = \"red\"\n";  // 15
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  const auto& d = result.diagnostics[0];
  EXPECT_EQ(d.severity, Severity::Warning);
  EXPECT_EQ(d.where.line, 15);
  EXPECT_EQ(d.where.column, 1);
  EXPECT_NE(d.message.find("unknown key \"colour\""), std::string::npos) << d.message;
  EXPECT_EQ(result.config->devices[0].options.count("colour"), 0u);
}

TEST(ConfigLoader, FormatsErrorsAsFileLineColumnMessage) {
  const auto result = load("[safety.sound]\nmax_volume = 2\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:2:14: max_volume must be greater than 0 and at most 1, got 2");
}

TEST(ConfigLoader, ReportsEveryErrorInFileOrderNotJustTheFirst) {
  const auto result = load(
      "[hub]\n"
      "latitude = 123\n"  // 2
      "[safety.light]\n"
      "night_window = \"forever\"\n"  // 4
      "[[rooms]]\n"
      "id = \"Nursery\"\n"  // 6
      "[[devices]]\n"       // 7: no id, room or driver
      "name = \"Lamp\"\n");
  ASSERT_FALSE(result.ok());
  const auto errors = with_severity(result, Severity::Error);
  std::vector<std::pair<int, int>> where;
  for (const auto& e : errors) where.emplace_back(e.where.line, e.where.column);
  // Room without a valid id defaults to the missing "bedtime" routine too.
  const std::vector<std::pair<int, int>> expected = {{2, 12}, {4, 16}, {5, 1}, {6, 6},
                                                     {7, 1},  {7, 1},  {7, 1}};
  EXPECT_EQ(where, expected) << describe(result);
}

TEST(ConfigLoader, ReportsOnlyTheSyntaxErrorAfterASyntaxError) {
  const auto result = load("[hub]\nlatitude = 500\nname = \"unterminated\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].where.line, 3);
}

TEST(ConfigLoader, GivesNoConfigWhenThereIsAnError) {
  const auto result = load("[child]\nname = 7\n");
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoader, ReportsAFileItCannotReadByName) {
  const auto missing = std::filesystem::path(::testing::TempDir()) / "no-such-nurseryd.toml";
  const auto result = load_file(missing, testing::test_drivers());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u);
  const auto& d = result.diagnostics[0];
  EXPECT_EQ(d.severity, Severity::Error);
  EXPECT_EQ(d.where.file, missing.string());
  EXPECT_NE(d.message.find("cannot read " + missing.string()), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("No such file"), std::string::npos) << d.message;
}

TEST(ConfigLoader, ReportsADirectoryAsUnreadable) {
  const auto result = load_file(::testing::TempDir(), testing::test_drivers());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("cannot read"), std::string::npos);
}

TEST(ConfigLoader, NamesTheLoadedFileInEveryLocation) {
  const auto file = std::filesystem::path(::testing::TempDir()) / "named-nurseryd.toml";
  {
    std::ofstream out(file);
    out << "[hub]\ncolour = 1\n";
  }
  const auto result = load_file(file, testing::test_drivers());
  std::filesystem::remove(file);
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->source, file.string());
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].where.file, file.string());
  EXPECT_EQ(result.diagnostics[0].to_string(),
            file.string() + ":2:1: warning: unknown key \"colour\" in [hub]");
}

TEST(ConfigLoader, DefaultsNamesToIdsAndKindToOther) {
  std::string text(kRoomAndBedtime);
  text +=
      "[[devices]]\nid = \"lamp\"\nroom = \"nursery\"\ndriver = \"simulated\"\nkind = \"light\"\n";
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.rooms[0].name, "nursery");
  EXPECT_EQ(c.rooms[0].default_routine, "bedtime");
  EXPECT_EQ(c.rooms[0].where.line, 1);
  EXPECT_EQ(c.devices[0].name, "lamp");
  EXPECT_EQ(c.routines[0].name, "bedtime");
  EXPECT_EQ(c.routines[0].kind, RoutineKind::Other);
  EXPECT_EQ(c.routines[0].steps[0].fade, Seconds{0});
  EXPECT_EQ(c.routines[0].steps[0].where.line, 6);
}

TEST(ConfigLoader, SortsStepsByOffsetKeepingTheWrittenOrderOfTies) {
  const auto result = load(R"([[routines]]
id = "r"
  [[routines.steps]]
  at = "10m"
  role = "light"
  on = false
  [[routines.steps]]
  at = "1m"
  role = "sound"
  volume = 0.2
  [[routines.steps]]
  at = "1m"
  role = "light"
  brightness = 0.05
  [[routines.steps]]
  at = "0s"
  role = "massager"
  intensity = 0.1
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  const auto& steps = result.config->routines[0].steps;
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].role, Capability::Massager);
  EXPECT_EQ(steps[1].role, Capability::Sound);
  EXPECT_EQ(steps[1].at, minutes{1});
  EXPECT_EQ(steps[2].role, Capability::Light);
  EXPECT_EQ(steps[2].at, minutes{1});
  EXPECT_EQ(steps[3].at, minutes{10});
  EXPECT_EQ(steps[3].values.light_on, false);
}

TEST(ConfigLoader, AcceptsAnIntegerWhereAFractionIsExpected) {
  const auto result = load(
      "[[routines]]\n"
      "id = \"r\"\n"
      "steps = [{ at = \"0s\", role = \"light\", brightness = 1 },"
      " { at = \"0s\", role = \"sound\", volume = 0 }]\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->routines[0].steps[0].values.brightness, kLevelMax);
  EXPECT_EQ(result.config->routines[0].steps[1].values.volume, Level{});
}

TEST(ConfigLoader, StoresDriverOptionsAsTheDriverDeclaresThem) {
  std::string text(kRoomAndBedtime);
  text +=
      "[[devices]]\n"  // 10
      "id = \"p\"\n"
      "room = \"nursery\"\n"
      "driver = \"probe\"\n"
      "enabled = true\n"        // 14
      "retries = 3\n"           // 15
      "gain = 2\n"              // 16
      "address = \"AA:BB\"\n"   // 17
      "timeout = \"1m30s\"\n";  // 18
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_TRUE(result.diagnostics.empty()) << describe(result);
  const auto& options = result.config->devices[0].options;
  ASSERT_EQ(options.size(), 5u);
  EXPECT_EQ(std::get<bool>(options.at("enabled").value), true);
  EXPECT_EQ(std::get<std::int64_t>(options.at("retries").value), 3);
  // A Number written as an integer still reads as a double.
  EXPECT_EQ(std::get<double>(options.at("gain").value), 2.0);
  EXPECT_EQ(std::get<std::string>(options.at("address").value), "AA:BB");
  // A Duration stays the text written; parse_duration reads it.
  EXPECT_EQ(std::get<std::string>(options.at("timeout").value), "1m30s");
  EXPECT_EQ(options.at("gain").where.line, 16);
  EXPECT_EQ(options.at("gain").where.column, 8);
}

TEST(ConfigLoader, ChecksTheTypeOfEveryDriverOption) {
  std::string text(kRoomAndBedtime);
  text +=
      "[[devices]]\n"  // 10
      "id = \"p\"\n"
      "room = \"nursery\"\n"
      "driver = \"probe\"\n"
      "enabled = \"yes\"\n"       // 14
      "retries = 2.5\n"           // 15
      "gain = \"loud\"\n"         // 16
      "address = 12\n"            // 17
      "timeout = \"a while\"\n";  // 18
  const auto result = load(text);
  ASSERT_FALSE(result.ok());
  const auto errors = with_severity(result, Severity::Error);
  ASSERT_EQ(errors.size(), 5u) << describe(result);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(errors[i].where.line, 14 + i) << describe(result);
  EXPECT_NE(errors[0].message.find("enabled must be true or false"), std::string::npos);
  EXPECT_NE(errors[1].message.find("retries must be an integer"), std::string::npos);
  EXPECT_NE(errors[2].message.find("gain must be a number"), std::string::npos);
  EXPECT_NE(errors[3].message.find("address must be a string"), std::string::npos);
  EXPECT_NE(errors[4].message.find("invalid duration \"a while\""), std::string::npos);
}

TEST(ConfigLoader, AddsTheDriversOwnChecks) {
  std::string text(kRoomAndBedtime);
  text +=
      "[[devices]]\n"  // 10
      "id = \"x\"\n"
      "room = \"nursery\"\n"
      "driver = \"simulated\"\n"
      "kind = \"lamp\"\n";  // 14
  const auto result = load(text);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:14:8: kind must be light, sound or massager, got \"lamp\"");
}

TEST(ConfigLoader, SkipsTheDriversOwnChecksWhenAnOptionIsMistyped) {
  std::string text(kRoomAndBedtime);
  // The simulated spec's validate would throw on a non-string kind.
  text += "[[devices]]\nid = \"x\"\nroom = \"nursery\"\ndriver = \"simulated\"\nkind = 3\n";
  const auto result = load(text);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_NE(result.diagnostics[0].message.find("kind must be a string"), std::string::npos);
}

TEST(ConfigLoader, TreatsEveryDriverAsUnknownWithoutACatalog) {
  std::string text(kRoomAndBedtime);
  text += "[[devices]]\nid = \"x\"\nroom = \"nursery\"\ndriver = \"simulated\"\nkind = \"light\"\n";
  const auto result = load_string(text, "test.toml", DriverCatalog{});
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(), "test.toml:13:10: unknown driver \"simulated\"");
}

TEST(ConfigLoader, ReportsADuplicateIdAtTheSecondWithTheFirstsLocation) {
  std::string text(kRoomAndBedtime);
  text +=
      "[[routines]]\n"      // 10
      "id = \"bedtime\"\n"  // 11
      "  [[routines.steps]]\n  at = \"0s\"\n  role = \"sound\"\n  on = true\n";
  const auto result = load(text);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:11:6: duplicate routine id \"bedtime\" (first defined at test.toml:5:6)");
}

TEST(ConfigLoader, ReportsAMissingDefaultRoutineAtTheRoomWhenItIsTheDefault) {
  const auto result = load("[[rooms]]\nid = \"nursery\"\nname = \"Nursery\"\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u);
  const auto& d = result.diagnostics[0];
  EXPECT_EQ(d.where.line, 1);
  EXPECT_EQ(d.where.column, 1);
  EXPECT_NE(d.message.find("default_routine \"bedtime\""), std::string::npos) << d.message;
}

TEST(ConfigLoader, RejectsIdsAParentCouldNotTypeInAUrl) {
  for (const char* id : {"Nursery", "baby room", "", "crèche", "a/b"}) {
    SCOPED_TRACE(id);
    const auto result = load(std::string("[[rooms]]\nid = \"") + id +
                             "\"\ndefault_routine = \"r\"\n[[routines]]\nid = \"r\"\n"
                             "steps = [{ at = \"0s\", role = \"light\", on = true }]\n");
    ASSERT_FALSE(result.ok());
    ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
    EXPECT_EQ(result.diagnostics[0].where.line, 2);
    EXPECT_NE(result.diagnostics[0].message.find("invalid room id"), std::string::npos);
  }
}

TEST(ConfigLoader, RejectsARoutineWithoutSteps) {
  const auto missing = load("[[routines]]\nid = \"r\"\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.diagnostics.at(0).where.line, 1);
  EXPECT_NE(missing.diagnostics.at(0).message.find("no steps"), std::string::npos);

  const auto empty = load("[[routines]]\nid = \"r\"\nsteps = []\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.diagnostics.at(0).where.line, 3);
  EXPECT_NE(empty.diagnostics.at(0).message.find("no steps"), std::string::npos);
}

TEST(ConfigLoader, RejectsAStepThatSetsNothing) {
  const auto result = load(
      "[[routines]]\nid = \"r\"\n[[routines.steps]]\nat = \"1m\"\nrole = \"light\"\nfade = "
      "\"1m\"\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].where.line, 3);
  EXPECT_NE(result.diagnostics[0].message.find("step sets no value"), std::string::npos);
}

TEST(ConfigLoader, ReportsMissingAtAndRoleOfAStep) {
  const auto result = load("[[routines]]\nid = \"r\"\n[[routines.steps]]\non = true\n");
  ASSERT_FALSE(result.ok());
  const auto errors = with_severity(result, Severity::Error);
  ASSERT_EQ(errors.size(), 2u) << describe(result);
  EXPECT_NE(errors[0].message.find("\"at\""), std::string::npos);
  EXPECT_NE(errors[1].message.find("\"role\""), std::string::npos);
  EXPECT_EQ(errors[0].where.line, 3);
}

TEST(ConfigLoader, ChecksStartIntensityAgainstAConfiguredMaximum) {
  // start_intensity left at its default (0.3) is above this maximum.
  const auto result = load("[safety.massage]\nmax_intensity = 0.2\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:2:17: start_intensity (0.3) must not be above max_intensity (0.2)");
}

TEST(ConfigLoader, AcceptsTheSafetyHardBoundsThemselves) {
  const auto result = load(
      "[safety.sound]\nauto_off = \"12h\"\nmax_volume = 1\n"
      "[safety.massage]\nsession_from_3_months = \"30m\"\nmax_intensity = 1.0\n"
      "start_intensity = 1.0\n"
      "[safety.light]\nnight_window = \"24h\"\nnight_max_color_temp = 10000\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->safety.sound.auto_off, kHardMaxSoundAutoOff);
  EXPECT_EQ(result.config->safety.massage.session_from_3_months, kHardMaxMassageSession);
  EXPECT_EQ(result.config->safety.light.night_max_color_temp, kMaxColorTemp);
}

TEST(ConfigLoader, RejectsZeroLimits) {
  const auto result = load(
      "[safety.sound]\nmax_volume = 0\nauto_off = \"0s\"\n"
      "[safety.light]\nnight_max_brightness = 0.0\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(with_severity(result, Severity::Error).size(), 3u) << describe(result);
}

TEST(ConfigLoader, RejectsANotANumberFraction) {
  const auto result = load("[safety.sound]\nmax_volume = nan\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.diagnostics.at(0).where.line, 2);
}

TEST(ConfigLoader, RejectsSectionsOfTheWrongShape) {
  const auto result = load("hub = \"mine\"\nrooms = 3\ndevices = [1]\n");
  ASSERT_FALSE(result.ok());
  const auto errors = with_severity(result, Severity::Error);
  ASSERT_EQ(errors.size(), 3u) << describe(result);
  EXPECT_NE(errors[0].message.find("hub must be a table ([hub])"), std::string::npos);
  EXPECT_NE(errors[1].message.find("rooms must be an array of tables ([[rooms]])"),
            std::string::npos);
  EXPECT_EQ(errors[2].where.column, 12);
}

}  // namespace
}  // namespace nursery::config
