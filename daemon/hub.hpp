#pragma once
// The hub: the one HubApi, over
//   Devices     — every device and what is known of it (devices.hpp),
//   SafetyGate  — the one choke point, owner of every limit's timer (safety_gate.hpp),
//   Room        — a room's routine engine, holds and night (room.hpp),
//   HubEvents   — what happened, for the surfaces (hub_events.hpp),
//   RunStore    — runs, events and usage, kept across restarts.
// Every command, whatever its source, goes through Hub::dispatch, which asks
// the gate first; so do the corrections of reports beyond a limit.
//
// The hub lives for the whole process: a reload applies a new config to it
// (apply_config), keeping the devices whose config did not change.
// Thread: the loop thread. Never throws.

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "device.hpp"
#include "devices.hpp"
#include "engine.hpp"
#include "hub_api.hpp"
#include "hub_events.hpp"
#include "log.hpp"
#include "room.hpp"
#include "run_store.hpp"
#include "safety_gate.hpp"
#include "wake_light.hpp"

namespace nursery {

class Hub final : public HubApi,
                  private DeviceListener,
                  private RoutineHost,
                  private SafetyEnforcer {
 public:
  Hub(Clock& clock, RunStore& store, LogSink& sink, HubEvents& events, DeviceFactory factory,
      DeviceServices services = {});
  ~Hub() override;
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // At start: creates every device and room, reads what the store knows
  // (sessions, open runs) and resumes the runs a previous process left open
  // (recomputed from their start and pauses), or closes them as
  // interrupted if they would have ended.
  void start(config::Config config);
  // On reload (the config is already checked): devices whose block did not
  // change are kept as they are; a device that left or changed is first
  // made safe (massager and sound off), then stopped; new ones are created.
  // Rooms are rebuilt and their open runs recomputed as after a restart,
  // except that a massage the new routines keep on goes on (its session is
  // the gate's, not the routine's); a massager they no longer keep on is
  // switched off.
  void reload(config::Config config);
  // SIGTERM: switches every massager off, waits (at most `deadline`) for
  // the devices to answer, stops them, and calls `done`. Runs stay open, so
  // a restart resumes them.
  void shutdown(Duration deadline, std::function<void()> done);

  // The morning wake time of a room (set by the scheduler): its sound
  // machines switch off then, never later than auto_off after they went on.
  void set_wake_time(std::string_view room, std::optional<TimePoint> at);
  // A room's next scheduled start (set by the scheduler), for status() and
  // summary(); nullopt when none is ahead.
  void set_next_trigger(std::string_view room, std::optional<NextTrigger> next);

  // The wake light of a room with [rooms.wake], for the scheduler: the wake
  // after a bedtime that began at `bedtime` (default: the room's current
  // night's start; nullopt when it is not night there, or the room has no
  // wake time). The scheduler starts plan->routine at plan->start_at; the
  // hub itself switches the room's white noise off at plan->wake_at (set
  // when a bedtime routine starts, and again after a restart or reload).
  std::optional<WakePlan> wake_plan(std::string_view room,
                                    std::optional<TimePoint> bedtime = std::nullopt) const;

  // A one-line summary for systemd's STATUS=.
  std::string summary() const;
  bool any_routine_active() const;
  const config::Config& config() const { return config_; }
  std::string local_time(TimePoint t) const { return devices_.local_time(t); }
  // For tests and the demo.
  Device* device(std::string_view id);
  const SafetyGate& gate() const { return gate_; }

  // HubApi
  HubStatus status() const override;
  Expected<RoutineStatus> routine(std::string_view room, const RoutineRequest& request) override;
  Expected<std::vector<RunRecord>> runs(const RunQuery& query) const override;
  Expected<CommandResult> set_device(std::string_view room, std::string_view device,
                                     const DeviceRequest& request) override;
  // The sleep log (hub_sleep_log.cpp).
  Expected<SleepEntry> add_sleep_entry(const SleepEntryRequest& request) override;
  Expected<SleepLogData> sleep_log(const SleepLogQuery& query) const override;

 private:
  // DeviceListener
  void device_reported(DeviceSlot& slot, const DeviceReport& report,
                       const DeviceValues& overridden) override;
  void device_availability(DeviceSlot& slot, Availability before) override;
  void device_command_ended(DeviceSlot& slot, const PendingCommand& command, CommandOutcome outcome,
                            const std::string& reason) override;
  void device_battery(DeviceSlot& slot) override;
  // RoutineHost
  SafetyDecision send_from_routine(Device& device, const DeviceValues& values, Duration transition,
                                   const Intents& intents) override;
  void routine_step_began(std::string_view room, int step_index) override;
  void routine_ended(std::string_view room, Outcome outcome) override;
  // SafetyEnforcer
  void enforce(const std::string& device_id, const DeviceValues& values,
               const std::string& reason) override;

  SafetyDecision dispatch(DeviceSlot& slot, const DeviceValues& values, Duration transition,
                          CommandSource source, const Intents& intents);
  // Brings what the device is known to have within every limit now.
  void enforce_limits(DeviceSlot& slot);
  // Switches off what must not run unsupervised: massager and sound.
  void make_safe(DeviceSlot& slot, const std::string& why);
  GateSubject subject(const DeviceSlot& slot) const;
  void build_rooms();
  void recover_runs();
  void settle_massagers();
  // Sound auto-off at the wake time of the room's night (see wake_plan).
  void follow_wake_time(const Room& room);
  void on_clock_jump(Duration by);
  void retry_later(DeviceSlot& slot);
  void record(std::string_view room, std::string_view device, std::string_view kind,
              std::string detail, CommandSource source);
  void publish_routine(event::RoutineChange change, Room& room, CommandSource source,
                       std::optional<Outcome> outcome = std::nullopt);
  Room* find_room(std::string_view id);
  const Room* find_room(std::string_view id) const;
  RoomSituation room_situation(const DeviceSlot& slot) const;

  // Stores through `write`; when the store refuses (a full disk), keeps the
  // write and retries it, in order, until it succeeds. Returns the refusal.
  Status store_write(std::string what, std::function<Status()> write);
  void retry_store();
  void note_store_problem(const Error& error);
  // Why the store is degraded, or empty.
  std::string store_problem() const;
  // The error a surface gets for a change that took effect but could not be
  // stored yet.
  Error unstored(std::string_view done, const Error& why) const;

  struct UnstoredWrite {
    std::string what;
    std::function<Status()> write;
  };

  struct Retry {
    DeviceValues safety;  // what the gate must still get to the device
    Duration backoff{0};
    std::unique_ptr<Alarm> alarm;
  };

  Clock& clock_;
  RunStore& store_;
  LogSink& sink_;
  Logger log_;
  HubEvents& events_;
  DeviceFactory factory_;
  config::Config config_;
  SafetyGate gate_;
  Devices devices_;
  std::vector<std::unique_ptr<Room>> rooms_;
  std::map<std::string, Retry> retries_;
  Subscription jump_watch_;
  std::deque<UnstoredWrite> unstored_;
  std::map<std::string, NextTrigger, std::less<>> next_triggers_;  // by room
  std::unique_ptr<Alarm> store_retry_;
  Duration store_backoff_{0};
  std::string store_problem_;
  Status last_end_stored_ = Ok{};  // whether the run that just ended is stored
  CommandSource ending_source_ = CommandSource::Routine;  // who ends the run being ended
};

}  // namespace nursery
