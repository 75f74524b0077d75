#pragma once
// The one source of time. Domain code never calls system_clock::now() or
// creates Asio timers itself: it asks a Clock, so tests run a whole night in
// virtual time (ManualClock) and the demo runs faster (--time-scale).
//
// now() is "hub time": wall time as the hub last agreed with it. Between
// two agreements it advances with the monotonic clock, so a routine's
// progress, a pause and a massage session are measured in real elapsed
// time. When the system's wall clock is set (a Pi has no RTC: NTP syncs
// after boot), the jump is detected, now() is corrected by it at one
// well-defined moment, and watch_jumps() callbacks are told by how much, so
// they can move what they hold in wall time (a run's start, a session's
// start) and nothing that runs moves.
//
// Alarms fire after the real time that was left when they were set, whatever
// the wall clock does meanwhile.
//
// Thread: the loop thread only. Nothing here throws.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "signal.hpp"

namespace nursery {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;
using Duration = std::chrono::milliseconds;

// A one-shot timer. set() replaces the pending wake-up. After cancel(),
// set() or destruction, the callback of the earlier set() never runs — even
// if its completion was already queued.
class Alarm {
 public:
  virtual ~Alarm() = default;
  virtual void set(TimePoint at, std::function<void()> callback) = 0;
  virtual void cancel() = 0;
  virtual bool pending() const = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual std::unique_ptr<Alarm> make_alarm() = 0;
  // Called after a jump of the wall clock, with the correction now() took
  // (positive: forward). Called from the loop, never from inside now().
  [[nodiscard]] Subscription watch_jumps(std::function<void(Duration)> callback) {
    return jumps_.subscribe(std::move(callback));
  }

 protected:
  void announce_jump(Duration by) { jumps_.emit(by); }

 private:
  Signal<Duration> jumps_;
};

// Wall time on an io_context. Scale N runs time N times faster (the demo).
// `not_before` is the earliest time the clock may start at (the latest time
// already stored): a hub restarted with --time-scale, or on a Pi whose clock
// is still stale after a reboot, never writes times older than ones it wrote
// before.
class LoopClock final : public Clock {
 public:
  LoopClock(boost::asio::io_context& io, double scale, TimePoint not_before = {});
  ~LoopClock() override;
  TimePoint now() const override;
  std::unique_ptr<Alarm> make_alarm() override;
  double scale() const { return scale_; }
  // Real time until hub time `at`, never negative.
  std::chrono::steady_clock::duration real_delay_until(TimePoint at) const;

  // Begins watching the system clock for jumps (a timerfd that the kernel
  // cancels when the clock is set: no wake-ups while nothing happens).
  // Without it now() still never jumps, it just is never corrected.
  void watch_system_clock();

 private:
  struct Watch;
  void check_wall();
  void arm_watch();
  boost::asio::io_context& io_;
  double scale_;
  std::chrono::steady_clock::time_point steady_origin_;
  TimePoint hub_origin_;
  // What the system clock read at steady_origin_, corrected by every jump:
  // the system clock "should" read real_origin_ + (steady - steady_origin_).
  std::chrono::system_clock::time_point real_origin_;
  Duration correction_{0};
  std::unique_ptr<Watch> watch_;
};

// Virtual time for tests: nothing happens until advance() is called, which
// runs every due alarm in time order, setting now() to each alarm's time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);
  ~ManualClock() override;
  TimePoint now() const override { return now_; }
  std::unique_ptr<Alarm> make_alarm() override;
  void advance(Duration by) { advance_to(now_ + by); }
  void advance_to(TimePoint to);
  // The wall clock is set: now() moves by `by` while pending alarms keep
  // the real time they had left, then watch_jumps() callbacks run.
  void jump(Duration by);
  std::size_t pending() const { return queue_.size(); }
  // When the next alarm is due, if any.
  std::optional<TimePoint> next_alarm() const;

 private:
  class ManualAlarm;
  friend class ManualAlarm;
  struct Entry {
    ManualAlarm* owner;
    std::uint64_t generation;
  };
  TimePoint now_;
  std::uint64_t next_generation_ = 1;
  std::multimap<TimePoint, Entry> queue_;
};

// ISO 8601 in UTC with a trailing Z, millisecond precision dropped when zero.
std::string format_utc(TimePoint t);

}  // namespace nursery
