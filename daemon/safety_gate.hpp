#pragma once
// The one safety choke point. Every command to every device, from every
// source — a routine, the control API, MQTT, the panel, a schedule, the
// hub's own timers, shutdown — is decided by SafetyGate::decide before it
// is sent, and every state a device reports is checked against the same
// limits. The gate owns every timer that enforces a limit:
//
// - a massage session's window runs from when the massager actually went
//   on, in real time: pauses, reloads, restarts and resumes never lengthen
//   it; in any rolling hour the massager runs at most one session length for
//   the child's age, however the time is split and whoever switches it on;
//   a session that is over is never started again by the wish that started
//   it (a routine recomputed after a restart, a reload or a lost link);
// - a sound's auto-off counts from when the sound went on;
// - a massager or a sound machine switched on from outside gets the same
//   limits as one the hub switched on.
//
// What it counts is kept in the store (UsageRecord), so it holds across
// restarts. Its own commands (auto-off) go through the hub's dispatch, so
// they pass the same path as every other command.
// Thread: the loop thread. Never throws.

#include <date/tz.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "device.hpp"
#include "log.hpp"
#include "run_store.hpp"
#include "safety.hpp"

namespace nursery {

// A device as the gate sees it.
struct GateSubject {
  std::string id;
  std::string name;
  Capabilities capabilities = 0;
  DeviceValues known;  // what the device is believed to have
};

// Sends the gate's own commands (an auto-off) through the hub's dispatch.
class SafetyEnforcer {
 public:
  virtual ~SafetyEnforcer() = default;
  virtual void enforce(const std::string& device_id, const DeviceValues& values,
                       const std::string& reason) = 0;
};

class SafetyGate {
 public:
  SafetyGate(Clock& clock, RunStore& store, Logger log, SafetyEnforcer& enforcer);
  ~SafetyGate();
  SafetyGate(const SafetyGate&) = delete;
  SafetyGate& operator=(const SafetyGate&) = delete;

  // The limits, the child's birth date and the time zone: at start and on
  // every reload. Open periods keep their start; their auto-offs are
  // re-armed under the new limits.
  void configure(const config::Config& config);
  // Reads what was on, and for how long, from the store (at start).
  void load();

  // What of `command` may reach the device now. `intents` name the wish
  // behind a switch-on ("run 12 step 2"; none for a manual command, which
  // is always a new wish). Records nothing.
  SafetyDecision decide(const GateSubject& device, const DeviceCommand& command,
                        const Intents& intents, RoomSituation room) const;
  // The device now has `device.known` (a command was sent, or it reported):
  // opens and closes on-periods, stores them and arms the auto-offs.
  // `reported`: the device said so itself (not only a command was sent).
  void track(const GateSubject& device, const Intents& intents, bool reported = false);
  // The morning wake time: a sound machine that went on before it is
  // switched off then, if that comes before its auto-off (never later than
  // auto_off after it went on). nullopt: no wake time.
  void set_sound_deadline(const std::string& device_id, std::optional<TimePoint> at);
  // The device left the hub (after it was made safe).
  void forget(const std::string& device_id);
  // The wall clock jumped: move every stored time by `by`.
  void shift(Duration by);

  // Session length for the child's age today, on the hub's calendar.
  Duration massage_session_limit() const;
  // When a session still open for this device ends (for the status).
  std::optional<TimePoint> session_ends(const std::string& device_id) const;
  const Safety& safety() const { return safety_; }

 private:
  struct Timed {
    std::vector<UsageRecord> records;  // recent, oldest first; the last may be open
    std::unique_ptr<Alarm> auto_off;
    bool closing_by_auto_off = false;
    std::optional<TimePoint> deadline;  // sound: the wake time
    // Massager: the start of the latest session the device was seen running
    // in (a report said on). A session only commanded — its "on" lost on a
    // link that went — has not begun for the gentle start: the next switch-on
    // starts gently, while its time still counts against the limits.
    std::optional<TimePoint> seen_session;
  };
  // When the open sound period must end, and why.
  std::pair<TimePoint, std::string> sound_end(const Timed& timed) const;
  Timed& timed(const std::string& device_id, Capability capability);
  const Timed* find_timed(const std::string& device_id, Capability capability) const;
  MassageAllowance massage_allowance(const std::string& device_id, const std::string& intent) const;
  SoundAllowance sound_allowance(const std::string& device_id, const std::string& intent) const;
  void arm_auto_off(const std::string& device_id, const std::string& name, Capability capability);
  void prune(Timed& timed) const;
  // Stores the records a full disk refused (their id is 0); while some are
  // left, tries again every few seconds.
  void store_unstored();
  std::chrono::sys_days local_today() const;
  std::string local_hhmm(TimePoint t) const;

  Clock& clock_;
  RunStore& store_;
  Logger log_;
  SafetyEnforcer& enforcer_;
  Safety safety_;
  std::optional<std::chrono::sys_days> birth_date_;
  std::string child_name_ = "the baby";
  const date::time_zone* zone_ = nullptr;
  std::map<std::pair<std::string, Capability>, Timed> timed_;
  std::unique_ptr<Alarm> store_retry_;
};

}  // namespace nursery
