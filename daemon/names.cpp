// Stable names of the core's enums, as they appear in the API, the store and logs.
#include "device.hpp"
#include "hub_api.hpp"
#include "hub_events.hpp"
#include "run_store.hpp"

namespace nursery {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Completed:
      return "completed";
    case Outcome::Stopped:
      return "stopped";
    case Outcome::Interrupted:
      return "interrupted";
  }
  return "unknown";
}

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (auto o : {Outcome::Completed, Outcome::Stopped, Outcome::Interrupted})
    if (outcome_name(o) == name) return o;
  return std::nullopt;
}

std::string_view sleep_kind_name(SleepKind kind) {
  switch (kind) {
    case SleepKind::Asleep:
      return "asleep";
    case SleepKind::Awake:
      return "awake";
    case SleepKind::Waking:
      return "waking";
  }
  return "unknown";
}

std::optional<SleepKind> parse_sleep_kind(std::string_view name) {
  for (auto k : {SleepKind::Asleep, SleepKind::Awake, SleepKind::Waking})
    if (sleep_kind_name(k) == name) return k;
  return std::nullopt;
}

std::string_view routine_state_name(RoutineState state) {
  switch (state) {
    case RoutineState::Idle:
      return "idle";
    case RoutineState::Running:
      return "running";
    case RoutineState::Paused:
      return "paused";
  }
  return "unknown";
}

std::string_view routine_action_name(RoutineAction action) {
  switch (action) {
    case RoutineAction::Start:
      return "start";
    case RoutineAction::Stop:
      return "stop";
    case RoutineAction::Pause:
      return "pause";
    case RoutineAction::Resume:
      return "resume";
    case RoutineAction::Skip:
      return "skip";
  }
  return "unknown";
}

std::optional<RoutineAction> parse_routine_action(std::string_view name) {
  for (auto a : {RoutineAction::Start, RoutineAction::Stop, RoutineAction::Pause,
                 RoutineAction::Resume, RoutineAction::Skip})
    if (routine_action_name(a) == name) return a;
  return std::nullopt;
}

std::string_view command_outcome_name(CommandOutcome outcome) {
  switch (outcome) {
    case CommandOutcome::Done:
      return "done";
    case CommandOutcome::Failed:
      return "failed";
    case CommandOutcome::TimedOut:
      return "timed out";
  }
  return "unknown";
}

std::string_view command_state_name(CommandState state) {
  switch (state) {
    case CommandState::None:
      return "none";
    case CommandState::Pending:
      return "pending";
    case CommandState::Done:
      return "done";
    case CommandState::Failed:
      return "failed";
    case CommandState::TimedOut:
      return "timed_out";
  }
  return "unknown";
}

std::string_view availability_name(Availability availability) {
  switch (availability) {
    case Availability::Unknown:
      return "unknown";
    case Availability::Connecting:
      return "connecting";
    case Availability::Available:
      return "available";
    case Availability::Unavailable:
      return "unavailable";
  }
  return "unknown";
}

namespace event {
std::string_view routine_change_name(RoutineChange change) {
  switch (change) {
    case RoutineChange::Started:
      return "started";
    case RoutineChange::Step:
      return "step";
    case RoutineChange::Paused:
      return "paused";
    case RoutineChange::Resumed:
      return "resumed";
    case RoutineChange::Ended:
      return "ended";
  }
  return "unknown";
}
}  // namespace event

}  // namespace nursery
