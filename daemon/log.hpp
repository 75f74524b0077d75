#pragma once
// Logging fit for the journal: one plain line per message. Under systemd
// (JOURNAL_STREAM set) each line starts with the syslog priority "<N>" that
// journald understands; on a terminal the level is spelled out instead.
// Each subsystem logs under its own domain ("engine", "safety", "store" ...).
// Thread: the loop thread (sinks are not synchronised).

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace nursery {

enum class LogLevel { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(LogLevel level, std::string_view domain, std::string_view message) = 0;
};

// One log line, as StderrSink writes it: "<N>domain: message\n" for the
// journal, "domain: error: message\n" (or warning:, or no tag) otherwise.
// The domain and the message are escaped with escape_text (config/text.hpp):
// control characters (\n, \r, \t, ESC and the other C0 and C1 codes, DEL),
// line separators, bidi overrides and invalid UTF-8 become visible escapes,
// so whatever a string came from — a config, an API request, a device — one
// call is always exactly one line. Pure; any thread; does not throw (but
// for std::bad_alloc).
std::string format_log_line(LogLevel level, std::string_view domain, std::string_view message,
                            bool journal);

// Writes format_log_line() to stderr in one write; chooses the journal format
// when JOURNAL_STREAM is set.
class StderrSink final : public LogSink {
 public:
  explicit StderrSink(LogLevel threshold = LogLevel::Info);
  void write(LogLevel level, std::string_view domain, std::string_view message) override;

 private:
  LogLevel threshold_;
  bool journal_;
};

// Keeps lines in memory, for tests.
class MemorySink final : public LogSink {
 public:
  struct Line {
    LogLevel level;
    std::string domain;
    std::string message;
  };
  void write(LogLevel level, std::string_view domain, std::string_view message) override {
    lines.push_back({level, std::string(domain), std::string(message)});
  }
  std::vector<Line> lines;
};

class Logger {
 public:
  Logger(LogSink& sink, std::string domain) : sink_(&sink), domain_(std::move(domain)) {}
  Logger child(std::string domain) const { return Logger(*sink_, std::move(domain)); }

  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) const {
    sink_->write(LogLevel::Error, domain_, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warning(fmt::format_string<Args...> f, Args&&... args) const {
    sink_->write(LogLevel::Warning, domain_, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void notice(fmt::format_string<Args...> f, Args&&... args) const {
    sink_->write(LogLevel::Notice, domain_, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) const {
    sink_->write(LogLevel::Info, domain_, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) const {
    sink_->write(LogLevel::Debug, domain_, fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  LogSink* sink_;
  std::string domain_;
};

}  // namespace nursery
