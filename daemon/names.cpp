// Stable names of the core's enums, as they appear in the API, the store and logs.
#include "hub_api.hpp"
#include "run_store.hpp"

namespace nursery {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Completed: return "completed";
    case Outcome::Stopped: return "stopped";
    case Outcome::Interrupted: return "interrupted";
  }
  return "unknown";
}

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (auto o : {Outcome::Completed, Outcome::Stopped, Outcome::Interrupted})
    if (outcome_name(o) == name) return o;
  return std::nullopt;
}

std::string_view routine_state_name(RoutineState state) {
  switch (state) {
    case RoutineState::Idle: return "idle";
    case RoutineState::Running: return "running";
    case RoutineState::Paused: return "paused";
  }
  return "unknown";
}

std::string_view routine_action_name(RoutineAction action) {
  switch (action) {
    case RoutineAction::Start: return "start";
    case RoutineAction::Stop: return "stop";
    case RoutineAction::Pause: return "pause";
    case RoutineAction::Resume: return "resume";
    case RoutineAction::Skip: return "skip";
  }
  return "unknown";
}

std::optional<RoutineAction> parse_routine_action(std::string_view name) {
  for (auto a : {RoutineAction::Start, RoutineAction::Stop, RoutineAction::Pause,
                 RoutineAction::Resume, RoutineAction::Skip})
    if (routine_action_name(a) == name) return a;
  return std::nullopt;
}

}  // namespace nursery
