#include "config/loader.hpp"

#include <fmt/format.h>
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

// A light for the room of kRoomAndBedtime, appended where a test needs the
// room to have a device and no warning about it.
constexpr std::string_view kNurseryLight = R"(
[[devices]]
id = "nursery-light"
room = "nursery"
driver = "simulated"
kind = "light"
)";

// Appended to a text that has no room of its own: a room, its light and its
// routine, after everything the test counts lines of.
constexpr std::string_view kRoomTail = R"(
[[rooms]]
id = "tail-room"
default_routine = "tail-routine"

[[devices]]
id = "tail-light"
room = "tail-room"
driver = "simulated"
kind = "light"

[[routines]]
id = "tail-routine"
steps = [{ at = "0s", role = "light", on = true }]
)";

std::string with_room(std::string_view text) { return std::string(text) + std::string(kRoomTail); }

TEST(ConfigLoader, LoadsAFileWithOnlyARoomWithEveryDefault) {
  const auto result = load(kRoomTail);
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_TRUE(result.diagnostics.empty()) << describe(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.source, "test.toml");
  EXPECT_EQ(c.hub.name, HubConfig{}.name);
  EXPECT_EQ(c.hub.time_zone, "UTC");
  EXPECT_EQ(c.child.birth_date, std::nullopt);
  EXPECT_EQ(c.safety.sound.max_volume, SoundSafety{}.max_volume);
  EXPECT_EQ(c.safety.massage.session_from_3_months, MassageSafety{}.session_from_3_months);
  EXPECT_EQ(c.rooms.size(), 1u);
  EXPECT_EQ(c.devices.size(), 1u);
  EXPECT_EQ(c.routines.size(), 1u);
}

TEST(ConfigLoader, ReportsUnknownKeyAsWarningWithItsLocation) {
  const auto result = load(with_room("[hub]\nname = \"Hub\"\n  brightnes = 3\n"));
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
  text += kNurseryLight;
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:10:3: warning: unknown key \"brightnes\" in [[routines.steps]]");
}

TEST(ConfigLoader, ReportsUnknownTopLevelTablesAndSafetyKeysAsWarnings) {
  const auto result =
      load(with_room("[zigbee]\nhost = \"x\"\n[safety]\nsmoke = 1\n[safety.sound]\nloud = 1\n"));
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.diagnostics.size(), 3u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:1:2: warning: unknown key \"zigbee\" in the top level");
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
  const auto result = load(with_room("[safety.sound]\nmax_volume = 2\n"));
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
    out << with_room("[hub]\ncolour = 1\n");
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
  const auto result = load(with_room(R"([[routines]]
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
)"));
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
  const auto result =
      load(with_room("[[routines]]\n"
                     "id = \"r\"\n"
                     "steps = [{ at = \"0s\", role = \"light\", brightness = 1 },"
                     " { at = \"0s\", role = \"sound\", volume = 0 }]\n"));
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
  text += kNurseryLight;
  const auto result = load(text);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:11:6: duplicate routine id \"bedtime\" (first defined at test.toml:5:6)");
}

TEST(ConfigLoader, ReportsAMissingDefaultRoutineAtTheRoomWhenItIsTheDefault) {
  const auto result = load("[[rooms]]\nid = \"nursery\"\nname = \"Nursery\"\n");
  ASSERT_FALSE(result.ok());
  const auto errors = with_severity(result, Severity::Error);
  ASSERT_EQ(errors.size(), 1u) << describe(result);
  const auto& d = errors[0];
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
  const auto missing = load(with_room("[[routines]]\nid = \"r\"\n"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.diagnostics.at(0).where.line, 1);
  EXPECT_NE(missing.diagnostics.at(0).message.find("no steps"), std::string::npos);

  const auto empty = load(with_room("[[routines]]\nid = \"r\"\nsteps = []\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.diagnostics.at(0).where.line, 3);
  EXPECT_NE(empty.diagnostics.at(0).message.find("no steps"), std::string::npos);
}

TEST(ConfigLoader, RejectsAStepThatSetsNothing) {
  const auto result = load(with_room(
      "[[routines]]\nid = \"r\"\n[[routines.steps]]\nat = \"1m\"\nrole = \"light\"\nfade = "
      "\"1m\"\n"));
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].where.line, 3);
  EXPECT_NE(result.diagnostics[0].message.find("step sets no value"), std::string::npos);
}

TEST(ConfigLoader, ReportsMissingAtAndRoleOfAStep) {
  const auto result = load(with_room("[[routines]]\nid = \"r\"\n[[routines.steps]]\non = true\n"));
  ASSERT_FALSE(result.ok());
  const auto errors = with_severity(result, Severity::Error);
  ASSERT_EQ(errors.size(), 2u) << describe(result);
  EXPECT_NE(errors[0].message.find("\"at\""), std::string::npos);
  EXPECT_NE(errors[1].message.find("\"role\""), std::string::npos);
  EXPECT_EQ(errors[0].where.line, 3);
}

TEST(ConfigLoader, ChecksStartIntensityAgainstAConfiguredMaximum) {
  // start_intensity left at its default (0.3) is above this maximum.
  const auto result = load(with_room("[safety.massage]\nmax_intensity = 0.2\n"));
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "test.toml:2:17: start_intensity (0.3) must not be above max_intensity (0.2)");
}

TEST(ConfigLoader, AcceptsTheSafetyHardBoundsThemselves) {
  const auto result =
      load(with_room("[safety.sound]\nauto_off = \"12h\"\nmax_volume = 1\n"
                     "[safety.massage]\nsession_from_3_months = \"30m\"\nmax_intensity = 1.0\n"
                     "start_intensity = 1.0\n"
                     "[safety.light]\nnight_window = \"24h\"\nnight_max_color_temp = 10000\n"));
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->safety.sound.auto_off, kHardMaxSoundAutoOff);
  EXPECT_EQ(result.config->safety.massage.session_from_3_months, kHardMaxMassageSession);
  EXPECT_EQ(result.config->safety.light.night_max_color_temp, kMaxColorTemp);
}

TEST(ConfigLoader, RejectsZeroLimits) {
  const auto result =
      load(with_room("[safety.sound]\nmax_volume = 0\nauto_off = \"0s\"\n"
                     "[safety.light]\nnight_max_brightness = 0.0\n"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(with_severity(result, Severity::Error).size(), 3u) << describe(result);
}

TEST(ConfigLoader, RejectsANotANumberFraction) {
  const auto result = load(with_room("[safety.sound]\nmax_volume = nan\n"));
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

namespace nursery::config {
namespace {

std::vector<Diagnostic> errors_of(const LoadResult& result) {
  return with_severity(result, Severity::Error);
}

TEST(ConfigWithoutRooms, AnEmptyFileIsAnErrorAtItsStart) {
  for (std::string_view text :
       {std::string_view(""), std::string_view("\xEF\xBB\xBF"), std::string_view("\n\n   \t\n"),
        std::string_view("# nothing yet\n# still nothing\n")}) {
    SCOPED_TRACE(::testing::PrintToString(std::string(text)));
    const auto result = load(text);
    ASSERT_FALSE(result.ok());
    const auto errors = errors_of(result);
    ASSERT_EQ(errors.size(), 1u) << describe(result);
    EXPECT_EQ(errors[0].where.line, 1);
    EXPECT_EQ(errors[0].where.column, 1);
    EXPECT_TRUE(errors[0].message.starts_with("no rooms: ")) << errors[0].message;
  }
}

TEST(ConfigWithoutRooms, AFileWithEverythingButARoomIsAnErrorAtItsFirstEntry) {
  const auto result = load(
      "# the hub\n"
      "\n"
      "[hub]\n"  // 3
      "name = \"Hub\"\n"
      "[[routines]]\n"
      "id = \"bedtime\"\n"
      "steps = [{ at = \"0s\", role = \"light\", on = true }]\n");
  ASSERT_FALSE(result.ok());
  const auto errors = errors_of(result);
  ASSERT_EQ(errors.size(), 1u) << describe(result);
  EXPECT_EQ(errors[0].where.line, 3);
  EXPECT_NE(errors[0].message.find("no rooms"), std::string::npos);
}

TEST(ConfigUtf8, ReportsAnInvalidByteInAStringAtTheByteItself) {
  // toml++ alone says 2:8, the quote before the byte.
  const auto result = load("[hub]\nname = \"\xff\"\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].where.line, 2);
  EXPECT_EQ(result.diagnostics[0].where.column, 9);
  EXPECT_NE(result.diagnostics[0].message.find("invalid UTF-8"), std::string::npos);
}

TEST(ConfigUtf8, CountsColumnsInCharactersAfterValidMultiByteText) {
  // "é" and "🌙" are one column each, as toml++ counts its own columns.
  const auto result = load("# é🌙 \xC3\x28\n");
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].where.line, 1);
  EXPECT_EQ(result.diagnostics[0].where.column, 6);
}

TEST(ConfigUtf8, ReportsATruncatedSequenceAtTheEndOfTheFileAtItsFirstByte) {
  const auto result = load(with_room("").append("# ok\n# cut \xE2\x82"));
  ASSERT_EQ(errors_of(result).size(), 1u) << describe(result);
  EXPECT_EQ(errors_of(result)[0].where.column, 7);
}

TEST(ConfigUtf8, ReportsAnOverlongEncodingAndASurrogate) {
  for (std::string_view bad : {std::string_view("\xC0\xAF"), std::string_view("\xED\xA0\x80"),
                               std::string_view("\xF4\x90\x80\x80")}) {
    const auto result = load(std::string("[hub]\nname = \"ab") + std::string(bad) + "\"\n");
    ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
    EXPECT_EQ(result.diagnostics[0].where.column, 11);
  }
}

// kRoomAndBedtime's room with a light only: its bedtime has a light step.
constexpr std::string_view kLightOnlyRoom = R"([[rooms]]
id = "nursery"

[[devices]]
id = "lamp"
room = "nursery"
driver = "simulated"
kind = "light"

[[routines]]
id = "bedtime"
  [[routines.steps]]
  at = "0s"
  role = "light"
  on = true
)";

TEST(ConfigSteps, RefusesTwoStepsForOneRoleAtOneTimeThatDisagreeAtTheSecond) {
  std::string text(kLightOnlyRoom);
  text +=
      "  [[routines.steps]]\n"  // 16
      "  at = \"0s\"\n"
      "  role = \"light\"\n"
      "  on = false\n";
  const auto result = load(text);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  const auto& d = result.diagnostics[0];
  EXPECT_EQ(d.where.line, 16);
  EXPECT_NE(d.message.find("contradicts the one at test.toml:12:3"), std::string::npos)
      << d.message;
  EXPECT_NE(d.message.find("on = false here, on = true there"), std::string::npos) << d.message;
}

TEST(ConfigSteps, RefusesTwoStepsAtOneTimeWithDifferentFades) {
  std::string text(kLightOnlyRoom);
  text +=
      "  [[routines.steps]]\n  at = \"0s\"\n  role = \"light\"\n  fade = \"2m\"\n"
      "  brightness = 0.1\n";
  const auto result = load(text);
  ASSERT_EQ(errors_of(result).size(), 1u) << describe(result);
  EXPECT_NE(errors_of(result)[0].message.find("fade"), std::string::npos);
}

TEST(ConfigSteps, AcceptsStepsAtOneTimeThatSetDifferentValuesOrAgree) {
  std::string text(kLightOnlyRoom);
  text +=
      "  [[routines.steps]]\n  at = \"0s\"\n  role = \"light\"\n  brightness = 0.1\n"
      "  [[routines.steps]]\n  at = \"0s\"\n  role = \"light\"\n  on = true\n"
      // Another role at the same time is another device.
      "  [[routines.steps]]\n  at = \"0s\"\n  role = \"sound\"\n  on = false\n";
  const auto result = load(text);
  EXPECT_TRUE(result.ok()) << describe(result);
  EXPECT_TRUE(errors_of(result).empty()) << describe(result);
}

TEST(ConfigSteps, AcceptsAStepEndingExactlyADayAfterTheStart) {
  std::string text(kLightOnlyRoom);
  text +=
      "  [[routines.steps]]\n  at = \"23h\"\n  role = \"light\"\n  fade = \"1h\"\n"
      "  on = false\n";
  const auto result = load(text);
  EXPECT_TRUE(result.ok()) << describe(result);
}

TEST(ConfigSteps, RefusesAnOffsetOfMoreThanADayAtItsValue) {
  std::string text(kLightOnlyRoom);
  text += "  [[routines.steps]]\n  at = \"24h1s\"\n  role = \"light\"\n  on = false\n";  // 16
  const auto result = load(text);
  ASSERT_EQ(errors_of(result).size(), 1u) << describe(result);
  EXPECT_EQ(errors_of(result)[0].where.line, 17);
  EXPECT_EQ(errors_of(result)[0].where.column, 8);
}

TEST(ConfigRoles, WarnsAtAStepOfTheDefaultRoutineForARoleTheRoomHasNoDeviceFor) {
  std::string text(kLightOnlyRoom);
  text += "  [[routines.steps]]\n  at = \"5m\"\n  role = \"massager\"\n  on = true\n";  // 16
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  const auto& d = result.diagnostics[0];
  EXPECT_EQ(d.severity, Diagnostic::Severity::Warning);
  EXPECT_EQ(d.where.line, 16);
  EXPECT_EQ(d.where.column, 3);
  EXPECT_NE(d.message.find("room \"nursery\" has no massager device"), std::string::npos)
      << d.message;
}

TEST(ConfigRoles, DoesNotWarnAboutARoutineThatIsNoRoomsDefault) {
  std::string text(kLightOnlyRoom);
  text +=
      "[[routines]]\nid = \"massage\"\nsteps = [{ at = \"0s\", role = \"massager\", on = true }]\n";
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_TRUE(result.diagnostics.empty()) << describe(result);
}

TEST(ConfigRoles, WarnsAboutARoomWithoutDevicesAtTheRoom) {
  const auto result = load(kRoomAndBedtime);
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.diagnostics.size(), 1u) << describe(result);
  EXPECT_EQ(result.diagnostics[0].where.line, 1);
  EXPECT_NE(result.diagnostics[0].message.find("has no devices"), std::string::npos);
}

TEST(ConfigRoles, TrustsADriverThatDoesNotSayWhatItsDevicesCanDo) {
  std::string text(kLightOnlyRoom);
  text += "  [[routines.steps]]\n  at = \"5m\"\n  role = \"massager\"\n  on = true\n";
  text += "[[devices]]\nid = \"probe\"\nroom = \"nursery\"\ndriver = \"probe\"\n";
  const auto result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_TRUE(result.diagnostics.empty()) << describe(result);
}

TEST(ConfigNames, AcceptsPrintableUnicodeDisplayNamesUpTo64Characters) {
  std::string e64;
  for (int i = 0; i < 64; ++i) e64 += "\xC3\xA9";  // 64 × "é": 128 bytes, 64 characters
  const auto result =
      load(with_room("[hub]\nname = \"Chambre d'Élodie 🌙\"\n[child]\nname = \"" + e64 + "\"\n"));
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->hub.name, "Chambre d'Élodie 🌙");
  EXPECT_EQ(result.config->child.name, e64);
}

TEST(ConfigNames, RefusesNamesWithControlOrInvisibleCharactersEscapingThemInTheMessage) {
  for (std::string_view name :
       {std::string_view(R"(Hub\nnurseryd: error: forged)"), std::string_view(R"(Hub\t)"),
        std::string_view(R"(\u007f)"), std::string_view(R"(\u0085)"),
        std::string_view(R"(a\u2028b)"), std::string_view(R"(\u202Egnp.exe)"),
        std::string_view("   "), std::string_view("")}) {
    SCOPED_TRACE(std::string(name));
    const auto result = load(with_room("[hub]\nname = \"" + std::string(name) + "\"\n"));
    ASSERT_FALSE(result.ok());
    ASSERT_EQ(errors_of(result).size(), 1u) << describe(result);
    EXPECT_EQ(errors_of(result)[0].where.line, 2);
    const std::string line = errors_of(result)[0].to_string();
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_EQ(line.find('\t'), std::string::npos) << line;
  }
}

TEST(ConfigNames, AcceptsEveryHatchRestTrackNameAndRefusesOtherTokens) {
  for (const char* track :
       {"none", "stream", "noise", "dryer", "ocean", "wind", "rain", "bird", "crickets", "brahms",
        "twinkle", "rockabye", "white-noise", "pink_noise_2"}) {
    std::string text(kLightOnlyRoom);
    text += fmt::format(
        "  [[routines.steps]]\n  at = \"1m\"\n  role = \"sound\"\n  track = \"{}\"\n", track);
    const auto result = load(text);
    EXPECT_TRUE(errors_of(result).empty()) << track << "\n" << describe(result);
  }
  for (const char* track : {"White Noise", "rain/2", "", "a-very-long-track-name-of-33-chars"}) {
    std::string text(kLightOnlyRoom);
    text += fmt::format(
        "  [[routines.steps]]\n  at = \"1m\"\n  role = \"sound\"\n  track = \"{}\"\n", track);
    const auto result = load(text);
    ASSERT_EQ(errors_of(result).size(), 1u) << track << "\n" << describe(result);
    EXPECT_EQ(errors_of(result)[0].where.line, 19) << track;
  }
}

}  // namespace
}  // namespace nursery::config
