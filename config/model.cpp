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
