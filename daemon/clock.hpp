#pragma once
// The one source of time. Domain code never calls system_clock::now() or
// creates Asio timers itself: it asks a Clock, so tests can run a whole night
// in virtual time (ManualClock) and the demo can run faster (--time-scale).
// Thread: the loop thread only. Nothing here throws.

#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include <boost/asio/io_context.hpp>

namespace nursery {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;
using Duration = std::chrono::milliseconds;

// A one-shot timer. Re-setting replaces the pending wake-up; destroying or
// cancelling it guarantees the callback will not run.
class Alarm {
 public:
  virtual ~Alarm() = default;
  virtual void set(TimePoint at, std::function<void()> callback) = 0;
  virtual void cancel() = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual std::unique_ptr<Alarm> make_alarm() = 0;
};

// Wall time on an io_context. With scale 1 it is the system clock; with scale N
// time runs N times faster from the moment of construction (the demo).
class LoopClock final : public Clock {
 public:
  LoopClock(boost::asio::io_context& io, double scale);
  TimePoint now() const override;
  std::unique_ptr<Alarm> make_alarm() override;
  double scale() const { return scale_; }
  // Real time until virtual time `at`, never negative.
  std::chrono::steady_clock::duration real_delay_until(TimePoint at) const;

 private:
  boost::asio::io_context& io_;
  double scale_;
  std::chrono::system_clock::time_point wall_origin_;
  std::chrono::steady_clock::time_point steady_origin_;
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
  std::size_t pending() const { return queue_.size(); }

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
