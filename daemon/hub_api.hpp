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
#include "daemon/schedule/wake_window.hpp"
#include "device.hpp"
#include "expected.hpp"
#include "run_store.hpp"
#include "schedule/planner.hpp"
#include "schedule/schedule.hpp"
#include "schedule/sun.hpp"

namespace nursery {

// Who asked: stored with every command and event, and shown.
enum class CommandSource { Routine, Control, Mqtt, Web, Device, Safety, Schedule, Shutdown };
std::string_view command_source_name(CommandSource source);

enum class CommandState { None, Pending, Done, Failed, TimedOut };
std::string_view command_state_name(CommandState state);

// The last command the hub sent a device, and what became of it.
struct CommandStatus {
  CommandState state = CommandState::None;
  CommandSource source = CommandSource::Routine;
  std::string reason;  // why it failed or timed out
  std::optional<TimePoint> at;
};

struct DeviceStatus {
  std::string id;
  std::string name;
  std::string driver;
  Capabilities capabilities = 0;
  Availability availability = Availability::Unknown;
  std::string availability_reason;
  std::optional<int> battery;       // percent
  std::optional<int> link_quality;  // percent
  DeviceValues state;               // last observed
  DeviceValues asked;               // last sent (after safety), not yet confirmed where pending
  Capabilities overridden = 0;      // capabilities held by a manual override until their next step
  CommandStatus command;
  bool available() const { return availability == Availability::Available; }
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

// The next time a schedule starts a routine in a room (daemon/scheduler).
struct NextTrigger {
  TimePoint at;
  std::string local;  // "2027-03-28T19:30:00+02:00"
  std::string routine;
  std::string schedule;  // the schedule's id
  std::string reason;    // "clock 19:30", "sunset -30m", ...
};

struct RoomStatus {
  std::string id;
  std::string name;
  bool night = false;  // the night light limits apply
  std::vector<DeviceStatus> devices;
  RoutineStatus routine;
  std::optional<NextTrigger> next_trigger;  // none: no schedule will start anything
};

struct HubStatus {
  std::string name;
  std::string time_zone;
  std::string version;
  TimePoint now;
  std::vector<RoomStatus> rooms;
  // Empty while the store takes every write; otherwise why it does not
  // ("the hub's storage is full…") while the hub keeps retrying.
  std::string store_problem;
};

enum class RoutineAction { Start, Stop, Pause, Resume, Skip };
std::string_view routine_action_name(RoutineAction action);
std::optional<RoutineAction> parse_routine_action(std::string_view name);

struct RoutineRequest {
  RoutineAction action = RoutineAction::Start;
  std::optional<std::string> routine;  // start only; default: the room's default
  CommandSource source = CommandSource::Control;
};

// A manual command for one device, as a surface parsed it.
struct DeviceRequest {
  DeviceValues values;
  // Switches every capability of the device ({"on":true} on a light-and-sound
  // device); a per-capability switch in `values` wins over it.
  std::optional<bool> on;
  Duration transition{0};
  CommandSource source = CommandSource::Control;
};

// One value the safety choke point changed, and why.
struct Clamp {
  std::string field;      // "intensity", or "sound on" where the capability matters
  std::string requested;  // as text: numbers, booleans and strings alike
  std::string applied;
  std::string reason;
  // The limit applies only now (a session starts gently): asking again in a
  // moment may get the value.
  bool transient = false;
};

struct CommandResult {
  std::string room;
  std::string device;
  Capabilities capabilities = 0;  // the device's, for how the values are shaped
  DeviceValues requested;
  DeviceValues applied;
  std::vector<Clamp> clamps;
};

// A BLE scan for `nurseryctl ble scan`: what it saw, and which driver would
// take each device (empty: none of this build's drivers).
struct BleScanDevice {
  BleScanResult seen;
  std::string driver;
};
enum class BleScanState { Running, Done, Failed };
struct BleScanStatus {
  BleScanState state = BleScanState::Running;
  std::chrono::seconds duration{0};
  TimePoint started_at{};
  TimePoint ends_at{};
  std::string error;  // when Failed
  std::vector<BleScanDevice> devices;
};

// A parent's sleep-log entry, as a surface parsed it. The hub checks what
// needs its knowledge: the room (may be left out when the hub has one), the
// time (not far ahead of the hub's clock).
struct SleepEntryRequest {
  std::optional<std::string> room;
  SleepKind kind = SleepKind::Asleep;
  std::optional<TimePoint> at;  // default: now
  std::string note;
  CommandSource source = CommandSource::Control;
};

// How far ahead of the hub's clock an entry may be (a phone's clock a
// little off), and the longest note.
inline constexpr Duration kSleepEntryMaxAhead = std::chrono::minutes(5);
inline constexpr std::size_t kSleepNoteMaxChars = 500;

// Which part of the log: entries with from <= at < to and runs started in
// [from, to), of one room or (unset) every room.
struct SleepLogQuery {
  std::optional<std::string> room;
  TimePoint from;
  TimePoint to;
};

// The log, and what reading it needs (which routines are bedtimes, the
// child's age, the hub's zone), so that every surface reads it alike.
struct SleepLogData {
  std::vector<RunRecord> runs;                // oldest first
  std::vector<SleepEntry> entries;            // oldest first
  std::vector<std::string> bedtime_routines;  // ids of the routines of kind bedtime
  std::vector<std::string> rooms;             // the rooms the query covers
  // Per room of `rooms`: its last logged wake-up, whenever it was.
  std::vector<std::optional<SleepEntry>> last_wake_ups;
  std::optional<std::chrono::sys_days> birth_date;
  schedule::WakeWindowTable wake_windows;
  std::string time_zone;
  TimePoint now;
};

class HubApi {
 public:
  virtual ~HubApi() = default;
  // Starts a scan of `duration` (1 s to 5 min), or joins the one running.
  // No Bluetooth is "ble_unavailable" (503) with the reason.
  virtual Expected<BleScanStatus> start_ble_scan(std::chrono::seconds duration) {
    (void)duration;
    return Error{"ble_unavailable", "this nurseryd runs without Bluetooth", 503};
  }
  // The last scan started; "no_scan" (404) before any.
  virtual Expected<BleScanStatus> ble_scan() const {
    return Error{"ble_unavailable", "this nurseryd runs without Bluetooth", 503};
  }
  virtual HubStatus status() const = 0;
  virtual Expected<RoutineStatus> routine(std::string_view room, const RoutineRequest& request) = 0;
  // The stored runs the query selects, newest first. A room that is not in
  // the config is "unknown_room" (404), a routine "unknown_routine" (404).
  virtual Expected<std::vector<RunRecord>> runs(const RunQuery& query) const = 0;
  virtual Expected<CommandResult> set_device(std::string_view room, std::string_view device,
                                             const DeviceRequest& request) = 0;

  // Schedules (daemon/scheduler). A room that is not in the config is
  // "unknown_room" (404). The defaults answer "no_scheduler" (503): a hub
  // built without one.
  virtual Expected<std::vector<schedule::Schedule>> schedules(std::string_view room) const;
  // Replaces the room's list, checked in full first (a routine that does not
  // exist is "unknown_routine", 400): a refused list changes nothing.
  virtual Expected<std::vector<schedule::Schedule>> set_schedules(
      std::string_view room, std::vector<schedule::Schedule> schedules);
  // The next `count` triggers after `from` (default: now).
  virtual Expected<schedule::Plan> next_triggers(std::string_view room,
                                                 std::optional<TimePoint> from,
                                                 std::size_t count) const;
  // Sun times of a local date at the hub's location (default: today).
  virtual Expected<schedule::SunDay> sun(std::optional<date::year_month_day> day) const;
  // The sleep log. The defaults answer "no_sleep_log" (503): a hub that
  // keeps none (a test's fake).
  // Stores a parent's entry and returns it as stored. "unknown_room" (404);
  // "invalid_request" (400) for no room on a hub with several;
  // "invalid_value" (400) for a time more than kSleepEntryMaxAhead ahead.
  virtual Expected<SleepEntry> add_sleep_entry(const SleepEntryRequest& request);
  // The runs and entries of the query, with what it takes to read them.
  // "unknown_room" (404) for a room the config lacks; "invalid_value" (400)
  // for `to` not after `from`, or more than 367 days apart.
  virtual Expected<SleepLogData> sleep_log(const SleepLogQuery& query) const;
};

}  // namespace nursery
