#include "log.hpp"

#include <cstdio>
#include <cstdlib>

#include "config/text.hpp"

namespace nursery {

std::string format_log_line(LogLevel level, std::string_view domain, std::string_view message,
                            bool journal) {
  if (journal)
    return fmt::format("<{}>{}: {}\n", static_cast<int>(level), escape_text(domain),
                       escape_text(message));
  std::string_view tag;
  switch (level) {
    case LogLevel::Error:
      tag = "error: ";
      break;
    case LogLevel::Warning:
      tag = "warning: ";
      break;
    default:
      break;
  }
  return fmt::format("{}: {}{}\n", escape_text(domain), tag, escape_text(message));
}

StderrSink::StderrSink(LogLevel threshold)
    : threshold_(threshold), journal_(std::getenv("JOURNAL_STREAM") != nullptr) {}

void StderrSink::write(LogLevel level, std::string_view domain, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(threshold_)) return;
  const std::string line = format_log_line(level, domain, message, journal_);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace nursery
