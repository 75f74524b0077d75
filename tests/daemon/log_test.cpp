// The log sink as the journal and a terminal see it: whatever a string came
// from, one call writes exactly one line, and nothing in it is a control
// character a terminal would act on.
#include "daemon/log.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace nursery {
namespace {

// Points file descriptor 2 at a scratch file for the life of the object and
// gives back what was written to it.
class CapturedStderr {
 public:
  CapturedStderr() {
    std::fflush(stderr);
    path_ = ::testing::TempDir() + "nursery-log-test-XXXXXX";
    const int fd = mkstemp(path_.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    saved_ = dup(2);
    dup2(fd, 2);
    close(fd);
  }
  ~CapturedStderr() {
    restore();
    std::remove(path_.c_str());
  }
  std::string text() {
    restore();
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

constexpr const char* kForgedTrack = "rain\nnurseryd: error: the massager could not be stopped";

TEST(StderrSink, AForgedNewlineInATrackNameCannotWriteASecondLine) {
  unsetenv("JOURNAL_STREAM");
  std::string text;
  {
    CapturedStderr captured;
    StderrSink sink;
    Logger log(sink, "engine");
    log.info("Sound machine: playing {}", kForgedTrack);
    text = captured.text();
  }
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(text,
            "engine: Sound machine: playing rain\\nnurseryd: error: the massager could not be "
            "stopped\n");
}

TEST(StderrSink, KeepsTheJournalPriorityOnTheOnlyLine) {
  setenv("JOURNAL_STREAM", "8:12345", 1);
  std::string text;
  {
    CapturedStderr captured;
    StderrSink sink;
    Logger log(sink, "engine");
    log.warning("{}", std::string("\r<3>nurseryd: forged\n<3>again"));
    text = captured.text();
  }
  unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(text, "<4>engine: \\r<3>nurseryd: forged\\n<3>again\n");
}

TEST(FormatLogLine, EscapesTerminalControlsDelC1AndInvalidUtf8AndKeepsUnicode) {
  const std::string line = format_log_line(LogLevel::Error, "store",
                                           "\x1b[2J\x7f\xC2\x9b"
                                           "caf\xE9 Élodie 🌙\t",
                                           false);
  EXPECT_EQ(line, "store: error: \\x1b[2J\\x7f\\u009bcaf\\xe9 Élodie 🌙\\t\n");
}

TEST(FormatLogLine, EscapesTheDomainToo) {
  EXPECT_EQ(format_log_line(LogLevel::Notice, "a\nb", "m", false), "a\\nb: m\n");
}

TEST(FormatLogLine, IsOneLineForEveryByteValue) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (bool journal : {false, true}) {
    const std::string line = format_log_line(LogLevel::Info, "x", all, journal);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    EXPECT_EQ(line.back(), '\n');
    EXPECT_TRUE(std::none_of(line.begin(), line.end() - 1, [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0x20 || u == 0x7f;
    })) << line;
  }
}

}  // namespace
}  // namespace nursery
