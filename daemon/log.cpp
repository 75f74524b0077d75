#include "log.hpp"

#include <cstdio>
#include <cstdlib>

namespace nursery {

StderrSink::StderrSink(LogLevel threshold)
    : threshold_(threshold), journal_(std::getenv("JOURNAL_STREAM") != nullptr) {}

void StderrSink::write(LogLevel level, std::string_view domain, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(threshold_)) return;
  std::string line;
  if (journal_) {
    line = fmt::format("<{}>{}: {}\n", static_cast<int>(level), domain, message);
  } else {
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
    line = fmt::format("{}: {}{}\n", domain, tag, message);
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace nursery
