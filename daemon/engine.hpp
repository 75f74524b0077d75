#pragma once
// The routine engine of one room: at most one run at a time. On every wake-up
// it recomputes the desired state from the timeline (routine.hpp) and asks
// for each device only what changed: the target with the remaining fade for
// a capability with its own transition, or the current value, stepped no
// more often than it visibly changes, for one without.
//
// What the device then has is what the safety gate let through, which the
// hub tracks: the engine only remembers what it asked, so it does not ask
// the same thing on every wake-up. It asks again when a step of that role
// begins (a limit may allow more now), during a fade whose target a clamp of
// the moment held back (a session starts gently, then rises), and when a
// device returns.
//
// A capability someone else changed (a wall switch, the panel) is held —
// left alone — until the next step *of its role* begins.
//
// While paused, every device stays where the routine was, except the
// massager, which is switched off (the safe direction) and comes back on
// resume if its session allows. Skip while paused moves the position and
// applies nothing until resume. Skip on the last step brings every device
// to the routine's final values, then completes the run.
// Thread: the loop thread. Never throws.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "device.hpp"
#include "expected.hpp"
#include "hub_api.hpp"
#include "log.hpp"
#include "routine.hpp"
#include "safety.hpp"

namespace nursery {

class RoutineHost {
 public:
  virtual ~RoutineHost() = default;
  // Sends through the safety choke point; returns what it decided.
  virtual SafetyDecision send_from_routine(Device& device, const DeviceValues& values,
                                           Duration transition, const Intents& intents) = 0;
  virtual void routine_step_began(std::string_view room, int step_index) = 0;
  virtual void routine_ended(std::string_view room, Outcome outcome) = 0;
};

class RoutineEngine {
 public:
  RoutineEngine(std::string room, std::vector<Device*> devices, Clock& clock, RoutineHost& host,
                Logger log);

  // Takes over a run, new or recovered after a restart or a reload, and
  // brings every device to the state the timeline wants now.
  void begin(const config::RoutineConfig& routine, RunRecord run);
  bool active() const { return timeline_.has_value(); }
  const RunRecord& run() const { return run_; }
  RoutineStatus status() const;

  // The run record as resume() or skip() would leave it, without changing
  // anything: the hub stores it first, and refuses what it cannot store.
  // Null when the action would be refused anyway.
  std::optional<RunRecord> after_resume() const;
  std::optional<RunRecord> after_skip() const;

  // Each changes the run record (the caller stores it) and the devices.
  Status pause();
  Status resume();
  Status skip();
  // Ends the run with `outcome`; routine_ended() is called.
  void end(Outcome outcome);
  // Lets go without ending the run or sending anything (reload, shutdown).
  void release();

  // A manual change of these capabilities: leave them alone until the next
  // step of their role begins.
  void hold(std::string_view device_id, Capabilities capabilities);
  Capabilities held(std::string_view device_id) const;
  // What the routine last asked of the device (null for a device not in it).
  const DeviceValues* asked(std::string_view device_id) const;
  // Ask for everything again on the next wake-up (a device came back, a
  // command failed).
  void resend(std::string_view device_id);
  // The wall clock jumped by `by`: the run's times move with it.
  void shift(Duration by);

 private:
  struct Target {
    Device* device;
    DeviceValues asked;  // what the engine last asked for
    Capabilities held = 0;
    std::map<Capability, int> held_after_step;  // per held role: its last begun step then
    bool reask = false;
  };
  void tick();
  void drive(Target& target, Duration elapsed, bool paused);
  Target* find(std::string_view device_id);
  std::string intent(int step) const;

  std::string room_;
  std::vector<Target> targets_;
  Clock& clock_;
  RoutineHost& host_;
  Logger log_;
  std::unique_ptr<Alarm> alarm_;
  std::optional<Timeline> timeline_;
  RunRecord run_;
  int step_index_ = -1;
  std::map<Capability, int> role_step_;  // last begun step per role
};

}  // namespace nursery
