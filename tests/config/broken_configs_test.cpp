// The corpus of broken configs in tests/config/broken/. Each file's first line
// says what the loader must report:
//   # expect: LINE:COL: part of the message
// and the file must fail to load with exactly that one error.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "test_drivers.hpp"

namespace nursery::config {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(NURSERY_SOURCE_DIR) / "tests" / "config" / "broken";

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kCorpus, ec))
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

struct Expectation {
  int line = 0;
  int column = 0;
  std::string message;
};

std::optional<Expectation> read_expectation(const fs::path& file) {
  std::ifstream in(file);
  std::string first;
  if (!std::getline(in, first)) return std::nullopt;
  static const std::regex pattern(R"(^# expect: (\d+):(\d+): (.+)$)");
  std::smatch m;
  if (!std::regex_match(first, m, pattern)) return std::nullopt;
  return Expectation{std::stoi(m[1]), std::stoi(m[2]), m[3]};
}

std::string describe(const LoadResult& result) {
  std::string text;
  for (const auto& d : result.diagnostics) text += d.to_string() + "\n";
  return text;
}

class BrokenConfig : public ::testing::TestWithParam<fs::path> {};

TEST_P(BrokenConfig, FailsWithTheExpectedErrorAtItsLocation) {
  const fs::path& file = GetParam();
  const auto expected = read_expectation(file);
  ASSERT_TRUE(expected) << file << ": first line must be \"# expect: LINE:COL: message\"";

  const auto result = load_file(file, testing::test_drivers());
  EXPECT_FALSE(result.ok());
  std::vector<Diagnostic> errors;
  for (const auto& d : result.diagnostics)
    if (d.severity == Diagnostic::Severity::Error) errors.push_back(d);

  // One mistake, one error: no cascade of follow-on errors.
  ASSERT_EQ(errors.size(), 1u) << describe(result);
  const auto& error = errors[0];
  EXPECT_EQ(error.where.file, file.string());
  EXPECT_EQ(error.where.line, expected->line) << describe(result);
  EXPECT_EQ(error.where.column, expected->column) << describe(result);
  EXPECT_NE(error.message.find(expected->message), std::string::npos)
      << "expected the message to contain: " << expected->message << "\n"
      << describe(result);
}

std::string case_name(const ::testing::TestParamInfo<fs::path>& info) {
  std::string name = info.param.stem().string();
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BrokenConfig, ::testing::ValuesIn(corpus_files()), case_name);

// So that a moved or emptied corpus cannot pass by running nothing.
TEST(BrokenConfigCorpus, HoldsACaseForEachKindOfMistake) {
  const auto files = corpus_files();
  EXPECT_GE(files.size(), 29u) << "corpus at " << kCorpus;
  for (const char* name : {"syntax_error",
                           "latitude_wrong_type",
                           "brightness_too_high",
                           "volume_negative",
                           "color_temp_too_low",
                           "unknown_driver",
                           "device_without_id",
                           "device_in_unknown_room",
                           "duplicate_device_id",
                           "default_routine_missing",
                           "step_role_lamp",
                           "volume_on_light_step",
                           "duration_in_words",
                           "auto_off_beyond_hard_bound",
                           "massage_session_beyond_hard_bound",
                           "unknown_time_zone",
                           "start_intensity_above_max",
                           "birth_date_as_string",
                           "missing_required_driver_option",
                           "only_comments",
                           "no_rooms",
                           "contradicting_steps",
                           "step_at_beyond_a_day",
                           "step_ends_after_a_day",
                           "invalid_utf8_in_a_string",
                           "invalid_utf8_in_a_comment",
                           "track_with_a_newline",
                           "pattern_5000_characters",
                           "room_name_with_an_escape_sequence"}) {
    EXPECT_TRUE(fs::exists(kCorpus / (std::string(name) + ".toml"))) << name;
  }
}

}  // namespace
}  // namespace nursery::config
