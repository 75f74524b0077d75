#pragma once
// The routine engine of one room: at most one run at a time. On every wake-up
// it recomputes the desired state from the timeline (routine.hpp) and sends
// each device only what changed: the target with the remaining fade to a
// device with its own transition, or the current value, stepped no more often
// than it visibly changes, to one without. A device someone else changed is
// held (left alone) until the next step begins.
// Thread: the loop thread. Never throws.

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

namespace nursery {

class RoutineHost {
 public:
  virtual ~RoutineHost() = default;
  // Sends a command through the safety choke point. For a massager,
  // `session_started` is when the routine's massage began.
  virtual void send_from_routine(Device& device, const DeviceCommand& command,
                                 std::optional<TimePoint> session_started) = 0;
  virtual void routine_step_began(std::string_view room, int step_index) = 0;
  virtual void routine_ended(std::string_view room, Outcome outcome) = 0;
};

class RoutineEngine {
 public:
  RoutineEngine(std::string room, std::vector<Device*> devices, Clock& clock, RoutineHost& host,
                Logger log);

  // Takes over a run, new or recovered after a restart, and brings every
  // device to the state the timeline wants now.
  void begin(const config::RoutineConfig& routine, RunRecord run);
  bool active() const { return timeline_.has_value(); }
  const RunRecord& run() const { return run_; }
  RoutineStatus status() const;

  // Each changes only the run record (the caller stores it) and the devices.
  Status pause();
  Status resume();
  Status skip();
  // Ends the run with `outcome`; routine_ended() is called.
  void end(Outcome outcome);

  // A manual change: leave the device alone until the next step begins.
  void hold(std::string_view device_id);
  bool held(std::string_view device_id) const;
  // Forget what was sent, so the next wake-up sends the full state (a device
  // that came back, a hold that ended).
  void resend(std::string_view device_id);

 private:
  struct Target {
    Device* device;
    DeviceValues sent;  // what the engine last asked for (before safety)
    bool held = false;
    int held_until_after_step = 0;
  };
  void tick();
  void drive(Target& target, Duration elapsed, bool paused);
  std::optional<Segment> segment_for(const Device& device, Duration elapsed, Role* role) const;
  Target* find(std::string_view device_id);

  std::string room_;
  std::vector<Target> targets_;
  Clock& clock_;
  RoutineHost& host_;
  Logger log_;
  std::unique_ptr<Alarm> alarm_;
  std::optional<Timeline> timeline_;
  RunRecord run_;
  int step_index_ = -1;
};

}  // namespace nursery
