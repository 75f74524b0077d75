#include "model.hpp"

#include <fmt/format.h>

#include "text.hpp"

namespace nursery::config {

std::string Location::to_string() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

// Escaped: a message may quote a key or a value from the file, and the
// line goes to a terminal or the journal.
std::string Diagnostic::to_string() const {
  return escape_text(fmt::format("{}: {}{}", where.to_string(),
                                 severity == Severity::Warning ? "warning: " : "", message));
}

bool same_device(const DeviceConfig& a, const DeviceConfig& b) {
  if (a.id != b.id || a.name != b.name || a.room != b.room || a.driver != b.driver ||
      a.options.size() != b.options.size())
    return false;
  for (const auto& [key, option] : a.options) {
    auto it = b.options.find(key);
    if (it == b.options.end() || it->second.value != option.value) return false;
  }
  return true;
}

const RoomConfig* Config::find_room(std::string_view id) const {
  for (const auto& room : rooms)
    if (room.id == id) return &room;
  return nullptr;
}

const RoutineConfig* Config::find_routine(std::string_view id) const {
  for (const auto& routine : routines)
    if (routine.id == id) return &routine;
  return nullptr;
}

}  // namespace nursery::config
