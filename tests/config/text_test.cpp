// The text rules every surface shares: the name checks of config/values.hpp
// and the escaping of config/text.hpp that keeps one log call on one line.
#include "config/text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "config/values.hpp"

namespace nursery {
namespace {

TEST(EscapeText, ShowsLineBreaksTabsAndEscapeAsVisibleEscapes) {
  EXPECT_EQ(escape_text("rain\nnurseryd: error: forged"), R"(rain\nnurseryd: error: forged)");
  EXPECT_EQ(escape_text("a\rb\tc"), R"(a\rb\tc)");
  EXPECT_EQ(escape_text("\x1b[2Jcleared"), R"(\x1b[2Jcleared)");
  EXPECT_EQ(escape_text(std::string("nul\0here", 8)), R"(nul\x00here)");
  EXPECT_EQ(escape_text("del\x7f"), R"(del\x7f)");
}

TEST(EscapeText, ShowsC1ControlsSeparatorsAndBidiOverridesAsCodePoints) {
  EXPECT_EQ(escape_text("next\xC2\x85line"), R"(next\u0085line)");
  EXPECT_EQ(escape_text("a\xE2\x80\xA8"
                        "b"),
            R"(a\u2028b)");
  EXPECT_EQ(escape_text("\xE2\x80\xAEgnp.exe"), R"(\u202egnp.exe)");
}

TEST(EscapeText, ShowsEachInvalidByteAsHexAndKeepsValidUnicode) {
  EXPECT_EQ(escape_text("caf\xE9!"), R"(caf\xe9!)");
  EXPECT_EQ(escape_text("\xC0\xAF"), R"(\xc0\xaf)");  // overlong "/"
  EXPECT_EQ(escape_text("cut \xE2\x82"), R"(cut \xe2\x82)");
  EXPECT_EQ(escape_text("Élodie 🌙 ½"), "Élodie 🌙 ½");
}

TEST(EscapeText, LeavesBackslashesSoEscapingTwiceChangesNothingMore) {
  const std::string once = escape_text("a\nb\\nc\x01");
  EXPECT_EQ(once, R"(a\nb\nc\x01)");
  EXPECT_EQ(escape_text(once), once);
}

TEST(FindInvalidUtf8, SkipsAByteOrderMarkAndCountsColumnsInCharacters) {
  EXPECT_EQ(find_invalid_utf8("\xEF\xBB\xBF"
                              "fine\n"),
            std::nullopt);
  const auto bad = find_invalid_utf8(
      "\xEF\xBB\xBF"
      "a\né\xFF");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->line, 2);
  EXPECT_EQ(bad->column, 2);
  EXPECT_EQ(bad->offset, 7u);  // 3 (BOM) + "a\n" + 2 ("é")
}

TEST(NameChecks, IdsAreOneTo32OfLowercaseDigitsDashAndUnderscore) {
  EXPECT_EQ(check_id("room id", "nursery-2_b"), std::nullopt);
  EXPECT_EQ(check_id("room id", std::string(32, 'a')), std::nullopt);
  ASSERT_TRUE(check_id("room id", std::string(33, 'a')));
  EXPECT_NE(check_id("room id", std::string(33, 'a'))->find("at most 32"), std::string::npos);
  for (const char* bad : {"", "Nursery", "baby room", "crèche", "a/b", "a\nb"})
    EXPECT_TRUE(check_id("room id", bad)) << bad;
}

TEST(NameChecks, TokensNameWhatADevicePlaysInTheSameAlphabet) {
  EXPECT_EQ(check_token("track", "white-noise"), std::nullopt);
  const auto huge = check_token("track", std::string(5000, 'a'));
  ASSERT_TRUE(huge);
  EXPECT_NE(huge->find("5000 characters"), std::string::npos) << *huge;
  EXPECT_LT(huge->size(), 200u) << "the message must not echo 5000 characters";
  const auto forged = check_token("track", "rain\nnurseryd: error: forged");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->find('\n'), std::string::npos) << *forged;
}

TEST(NameChecks, DisplayNamesArePrintableTextOfAtMost64Characters) {
  EXPECT_EQ(check_display_name("room name", "Chambre d'Élodie 🌙"), std::nullopt);
  std::string e64;
  for (int i = 0; i < 64; ++i) e64 += "é";
  EXPECT_EQ(check_display_name("room name", e64), std::nullopt);
  EXPECT_TRUE(check_display_name("room name", e64 + "é"));
  for (const char* bad : {"", "   ", "a\tb", "a\nb", "\x1b[2J", "caf\xE9", "\xE2\x80\xAEx"})
    EXPECT_TRUE(check_display_name("room name", bad)) << escape_text(bad);
}

}  // namespace
}  // namespace nursery
