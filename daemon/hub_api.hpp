#pragma once
// The one command/query interface. The control API (web/), MQTT and
// nurseryctl all call this, so behaviour and validation are the same
// everywhere. Thread: the loop thread. Never throws; a refused request is an
// Error and changes nothing.

#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config/values.hpp"
#include "device.hpp"
#include "expected.hpp"
#include "run_store.hpp"

namespace nursery {

struct DeviceStatus {
  std::string id;
  std::string name;
  std::string driver;
  Capabilities capabilities = 0;
  bool available = false;
  DeviceValues state;      // last observed
  bool overridden = false; // held by a manual override until the next step
};

enum class RoutineState { Idle, Running, Paused };
std::string_view routine_state_name(RoutineState state);

struct RoutineStatus {
  RoutineState state = RoutineState::Idle;
  std::string routine;  // empty when idle
  int step_index = 0;   // the last step that has begun (0-based)
  int step_count = 0;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ends_at;  // absent while paused
};

struct RoomStatus {
  std::string id;
  std::string name;
  bool night = false;  // the night light limits apply
  std::vector<DeviceStatus> devices;
  RoutineStatus routine;
};

struct HubStatus {
  std::string name;
  std::string time_zone;
  std::string version;
  TimePoint now;
  std::vector<RoomStatus> rooms;
};

enum class RoutineAction { Start, Stop, Pause, Resume, Skip };
std::string_view routine_action_name(RoutineAction action);
std::optional<RoutineAction> parse_routine_action(std::string_view name);

struct RoutineRequest {
  RoutineAction action = RoutineAction::Start;
  std::optional<std::string> routine;  // start only; default: the room's default
};

// One value the safety choke point changed, and why.
struct Clamp {
  std::string field;
  std::string requested;  // as text: numbers, booleans and strings alike
  std::string applied;
  std::string reason;
};

struct CommandResult {
  std::string room;
  std::string device;
  DeviceValues requested;
  DeviceValues applied;
  std::vector<Clamp> clamps;
};

class HubApi {
 public:
  virtual ~HubApi() = default;
  virtual HubStatus status() const = 0;
  virtual Expected<RoutineStatus> routine(std::string_view room, const RoutineRequest& request) = 0;
  // The stored runs the query selects, newest first. A room that is not in
  // the config is "unknown_room" (404), a routine "unknown_routine" (404).
  virtual Expected<std::vector<RunRecord>> runs(const RunQuery& query) const = 0;
  virtual Expected<CommandResult> set_device(std::string_view room, std::string_view device,
                                             const DeviceCommand& command) = 0;
};

}  // namespace nursery
