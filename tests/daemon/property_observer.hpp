#pragma once
// An independent observer of what physically reaches the simulated devices,
// for the property test (property_test.cpp). It is written apart from
// daemon/safety*.cpp on purpose — it does not call Safety or the gate, nor
// reuse their code — so that a mistake in the choke point is not repeated
// here. Its rules come from ../shared/docs/safety-defaults.md and issue 5:
//
//   sound      volume <= max_volume (on or off: a staged value plays at the
//              next switch-on); off by auto_off after it went on, or by the
//              room's wake time if it went on before it;
//   massager   intensity <= max_intensity (on or off); a session the hub
//              switches on starts at <= start_intensity; a session lasts at
//              most the session length for the child's age (local calendar
//              date of its start) from when it went on; in any rolling 60
//              minutes it runs at most one session length; a massager that
//              returns after its window is switched off, never restarted;
//   light      between a bedtime routine's start and the wake routine (or
//              night_window), brightness <= night_max_brightness and colour
//              <= night_max_color_temp (on or off: no flash at switch-on);
//              while a wake routine runs (after night), <= the wake ceiling;
//   leaving    a device that leaves the config, or whose block changes, has
//              its massager and sound off before it goes.
//
// Tolerances, the only ones (each with its reason):
//   - blind time: while the hub cannot know what a device has — it is
//     unreachable, no longer in the config, or changed by someone else (its
//     own button) and the report has not reached the hub yet — the hub
//     cannot command it, so nothing is judged; that time is not counted as
//     massage the hub let run either. It is judged again from the moment
//     the hub hears it (its report is delivered), plus the device's latency.
//     A massager on since before it went blind keeps its session: its window
//     does not restart.
//   - latency: a device configured with a command latency (a slow device)
//     gets every command that long after the hub sent it, so every deadline
//     and every correction is due that much later.
//   - a change of limits (a reload, the start of night or of the wake light)
//     takes effect at the device after its latency: until then the looser of
//     the old and new caps applies, and no deadline falls before the change
//     plus the latency.
//   - the start cap is judged on sessions the hub switches on; a session
//     switched on by someone else has begun before the hub hears of it, and
//     from then on the running caps apply.
// Times are hub time; after a wall-clock jump the test calls shift() so that
// durations stay real elapsed time, as the issue demands. A wake time is a
// wall time and is not shifted.
//
// Thread: the test's. Never throws.

#include <date/tz.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "config/values.hpp"
#include "daemon/clock.hpp"

namespace nursery::testing {

enum class PhysicalCause { Command, ByHand, OwnTimer };

struct Breach {
  TimePoint at;
  std::string device;
  std::string rule;    // short id: "volume", "massage_session", ...
  std::string detail;  // a sentence with the values
  std::string to_string() const;
};

class PropertyObserver {
 public:
  PropertyObserver() = default;

  // The config the hub runs (at start, and after every reload, at `now`).
  // Devices that left it, or whose block changed, must be made safe.
  void configure(const config::Config& config, TimePoint now);
  // A new hub started (after a crash or a shutdown): it has heard nothing yet.
  void hub_started(TimePoint now);

  // What physically happened to a device (the simulated World).
  void physical(const std::string& id, const DeviceValues& state, PhysicalCause cause,
                TimePoint now);
  // The hub heard a report the device generated at `generated` (delivered now).
  void heard(const std::string& id, TimePoint generated, TimePoint now);
  // The hub sent the device a command that will reach it (it is reachable);
  // its physical change comes when it lands. A command is judged by the
  // limits in force when it was sent: one sent before a tightening is not
  // the hub's mistake, the device's state after the latency is.
  void sent(const std::string& id, TimePoint now);
  // The device's link went or came back (before the hub hears of it).
  void reachable(const std::string& id, bool reachable, TimePoint now);

  // Routines, as the hub announces them (kind from the config).
  void routine_started(const std::string& room, config::RoutineKind kind, TimePoint now);
  void routine_ended(const std::string& room, TimePoint now);
  // The room's wake time (a wall time), as given to Hub::set_wake_time.
  void wake_time(const std::string& room, std::optional<TimePoint> at, TimePoint now);
  // The wall clock jumped by `by`; hub time moves with it (call before the
  // clock moves, with the time before the jump).
  void shift(Duration by, TimePoint now);

  // Judges everything up to now.
  void flush(TimePoint now);

  const std::vector<Breach>& breaches() const { return breaches_; }

 private:
  struct Caps {
    std::optional<int> volume;  // permille
    std::optional<int> intensity;
    std::optional<int> start_intensity;
    std::optional<int> brightness;
    std::optional<int> color_temp;
  };
  struct Dev {
    std::string room;
    Capabilities caps = 0;
    Duration latency{0};
    bool supervised = false;
    bool reachable = true;
    bool unheard = false;
    TimePoint unheard_since{};
    DeviceValues state;
    TimePoint since{};  // judged up to here
    bool known_state = false;
    TimePoint excused_until{};
    // caps in transition
    std::optional<Caps> prev_caps;
    TimePoint caps_grace_until{};
    TimePoint caps_changed_at{};
    std::uint64_t caps_changed_seq = 0;
    std::deque<std::uint64_t> sent;  // commands on their way, in the order of events
    TimePoint deadline_floor{};
    // massager
    std::optional<TimePoint> session_start;
    std::optional<TimePoint> massage_on_since;  // seen on since
    std::vector<std::pair<TimePoint, TimePoint>> massage_periods;
    bool massage_switched_while_blind = false;
    // sound
    std::optional<TimePoint> sound_on_since;
    bool sound_switched_while_blind = false;
    // leaving
    std::optional<TimePoint> must_be_off_by;
    std::set<std::string> reported;  // rules already reported for the current state
  };
  struct Room {
    std::optional<TimePoint> night_since;
    std::optional<TimePoint> waking_since;
    std::optional<TimePoint> wake_at;
  };

  bool blind(const Dev& d) const { return !d.supervised || !d.reachable || d.unheard; }
  void begin_blind(Dev& d, TimePoint now);
  void end_blind(Dev& d, TimePoint now);
  void judge(const std::string& id, Dev& d, TimePoint now);
  void check_caps(const std::string& id, Dev& d, TimePoint at, const DeviceValues& s,
                  std::optional<std::pair<std::uint64_t, TimePoint>> sent);
  Caps caps_now(const Dev& d, TimePoint t) const;
  Caps caps_effective(const Dev& d, TimePoint t) const;
  Caps caps_when_sent(const Dev& d, std::uint64_t sent_seq, TimePoint sent_at) const;
  static Caps loosest(Caps a, const Caps& b);
  void tighten(Dev& d, TimePoint now);
  void tighten_room(const std::string& room, TimePoint now);
  Duration session_limit(TimePoint at) const;
  Duration massage_in_window(const Dev& d, TimePoint end) const;
  void breach(const std::string& id, Dev& d, TimePoint at, std::string rule, std::string detail);
  std::string local(TimePoint t) const;
  bool night(const Room& r, TimePoint t) const;

  config::SafetyConfig limits_;
  std::optional<std::chrono::sys_days> birth_;
  const date::time_zone* zone_ = nullptr;
  std::map<std::string, Dev> devices_;
  std::map<std::string, Room> rooms_;
  std::map<std::string, config::DeviceConfig> configs_;
  std::vector<Breach> breaches_;
  // Orders what happens at one instant: a command sent before a tightening
  // at the same millisecond is still judged by the limits before it.
  std::uint64_t seq_ = 0;
};

}  // namespace nursery::testing
