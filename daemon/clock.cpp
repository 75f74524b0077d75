#include "clock.hpp"

#include <date/date.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdint>
#include <limits>

namespace nursery {
namespace {

// A jump smaller than this is not worth moving runs for (and is within
// what NTP would slew anyway).
constexpr Duration kJumpThreshold{1000};

class LoopAlarm final : public Alarm {
 public:
  LoopAlarm(boost::asio::io_context& io, const LoopClock& clock) : timer_(io), clock_(clock) {}

  void set(TimePoint at, std::function<void()> callback) override {
    const std::uint64_t generation = ++state_->generation;
    callback_ = std::move(callback);
    armed_ = true;
    timer_.expires_after(clock_.real_delay_until(at));
    timer_.async_wait(
        [this, weak = std::weak_ptr<State>(state_), generation](const boost::system::error_code&) {
          // Whatever the error code says: only the completion of the latest
          // set() of a live alarm may run its callback.
          auto state = weak.lock();
          if (!state || state->generation != generation) return;
          ++state->generation;
          armed_ = false;
          auto run = std::move(callback_);
          run();  // may re-set or destroy this alarm: touch nothing after
        });
  }

  void cancel() override {
    ++state_->generation;
    armed_ = false;
    callback_ = nullptr;
    timer_.cancel();
  }

  bool pending() const override { return armed_; }

 private:
  struct State {
    std::uint64_t generation = 0;
  };
  boost::asio::steady_timer timer_;
  const LoopClock& clock_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::function<void()> callback_;
  bool armed_ = false;
};

}  // namespace

// A CLOCK_REALTIME timerfd armed far in the future with
// TFD_TIMER_CANCEL_ON_SET: the kernel makes it readable (ECANCELED) exactly
// when someone sets the clock.
struct LoopClock::Watch {
  explicit Watch(boost::asio::io_context& io) : descriptor(io) {}
  boost::asio::posix::stream_descriptor descriptor;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

LoopClock::LoopClock(boost::asio::io_context& io, double scale, TimePoint not_before)
    : io_(io),
      scale_(scale),
      steady_origin_(std::chrono::steady_clock::now()),
      real_origin_(std::chrono::system_clock::now()) {
  hub_origin_ = std::max(std::chrono::time_point_cast<Duration>(real_origin_), not_before);
}

LoopClock::~LoopClock() = default;

TimePoint LoopClock::now() const {
  using namespace std::chrono;
  const auto real = steady_clock::now() - steady_origin_;
  if (scale_ == 1.0) return hub_origin_ + duration_cast<Duration>(real) + correction_;
  const auto scaled = duration_cast<Duration>(duration<double, std::nano>(real) * scale_);
  return hub_origin_ + scaled + correction_;
}

std::chrono::steady_clock::duration LoopClock::real_delay_until(TimePoint at) const {
  using namespace std::chrono;
  const auto delay = at - now();
  if (delay <= Duration::zero()) return steady_clock::duration::zero();
  return duration_cast<steady_clock::duration>(duration<double, std::milli>(delay) / scale_);
}

std::unique_ptr<Alarm> LoopClock::make_alarm() { return std::make_unique<LoopAlarm>(io_, *this); }

void LoopClock::check_wall() {
  using namespace std::chrono;
  const auto expected = real_origin_ + (steady_clock::now() - steady_origin_);
  const auto jump = duration_cast<Duration>(system_clock::now() - expected);
  if (jump > -kJumpThreshold && jump < kJumpThreshold) return;
  real_origin_ += jump;
  correction_ += jump;
  announce_jump(jump);
}

void LoopClock::watch_system_clock() {
  if (watch_) return;
  const int fd = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return;  // an old kernel: now() still never jumps, it is just never corrected
  watch_ = std::make_unique<Watch>(io_);
  watch_->descriptor.assign(fd);
  arm_watch();
}

void LoopClock::arm_watch() {
  itimerspec far{};
  far.it_value.tv_sec = std::numeric_limits<time_t>::max() / 2;
  ::timerfd_settime(watch_->descriptor.native_handle(), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
                    &far, nullptr);
  watch_->descriptor.async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      [this, alive = std::weak_ptr<bool>(watch_->alive)](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        std::uint64_t expirations = 0;
        const auto n = ::read(watch_->descriptor.native_handle(), &expirations, sizeof expirations);
        if (n < 0 && errno == ECANCELED) check_wall();
        arm_watch();
      });
}

class ManualClock::ManualAlarm final : public Alarm {
 public:
  explicit ManualAlarm(ManualClock* clock) : clock_(clock) {}
  ~ManualAlarm() override { cancel(); }
  void set(TimePoint at, std::function<void()> callback) override {
    cancel();
    if (!clock_) return;
    callback_ = std::move(callback);
    generation_ = clock_->next_generation_++;
    clock_->queue_.emplace(at, Entry{this, generation_});
  }
  void cancel() override {
    if (!clock_ || generation_ == 0) return;
    for (auto it = clock_->queue_.begin(); it != clock_->queue_.end(); ++it) {
      if (it->second.owner == this) {
        clock_->queue_.erase(it);
        break;
      }
    }
    generation_ = 0;
    callback_ = nullptr;
  }
  bool pending() const override { return generation_ != 0; }
  void fire(std::uint64_t generation) {
    if (generation != generation_) return;
    generation_ = 0;
    auto cb = std::move(callback_);
    cb();  // may re-set this alarm or destroy it: touch nothing after
  }
  void detach() { clock_ = nullptr; }

 private:
  ManualClock* clock_;
  std::uint64_t generation_ = 0;
  std::function<void()> callback_;
};

ManualClock::ManualClock(TimePoint start) : now_(start) {}

ManualClock::~ManualClock() {
  for (auto& [at, entry] : queue_) entry.owner->detach();
}

std::unique_ptr<Alarm> ManualClock::make_alarm() { return std::make_unique<ManualAlarm>(this); }

void ManualClock::advance_to(TimePoint to) {
  while (!queue_.empty() && queue_.begin()->first <= to) {
    auto it = queue_.begin();
    if (it->first > now_) now_ = it->first;
    Entry entry = it->second;
    queue_.erase(it);
    entry.owner->fire(entry.generation);
  }
  if (to > now_) now_ = to;
}

void ManualClock::jump(Duration by) {
  now_ += by;
  std::multimap<TimePoint, Entry> moved;
  for (auto& [at, entry] : queue_) moved.emplace(at + by, entry);
  queue_ = std::move(moved);
  announce_jump(by);
}

std::optional<TimePoint> ManualClock::next_alarm() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

std::string format_utc(TimePoint t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  if (secs == t) return date::format("%FT%TZ", secs);
  return date::format("%FT%TZ", t);
}

}  // namespace nursery
