#include "clock.hpp"

#include <boost/asio/steady_timer.hpp>
#include <date/date.h>

namespace nursery {
namespace {

class LoopAlarm final : public Alarm {
 public:
  explicit LoopAlarm(boost::asio::io_context& io, const LoopClock& clock)
      : timer_(io), clock_(clock) {}
  void set(TimePoint at, std::function<void()> callback) override {
    timer_.expires_after(clock_.real_delay_until(at));
    timer_.async_wait([cb = std::move(callback)](const boost::system::error_code& ec) {
      if (!ec) cb();
    });
  }
  void cancel() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
  const LoopClock& clock_;
};

}  // namespace

LoopClock::LoopClock(boost::asio::io_context& io, double scale)
    : io_(io),
      scale_(scale),
      wall_origin_(std::chrono::system_clock::now()),
      steady_origin_(std::chrono::steady_clock::now()) {}

TimePoint LoopClock::now() const {
  using namespace std::chrono;
  if (scale_ == 1.0) return time_point_cast<milliseconds>(system_clock::now());
  auto real = steady_clock::now() - steady_origin_;
  auto scaled = duration_cast<system_clock::duration>(duration<double, std::nano>(real) * scale_);
  return time_point_cast<milliseconds>(wall_origin_ + scaled);
}

std::chrono::steady_clock::duration LoopClock::real_delay_until(TimePoint at) const {
  using namespace std::chrono;
  auto virtual_delay = at - now();
  if (virtual_delay <= Duration::zero()) return steady_clock::duration::zero();
  return duration_cast<steady_clock::duration>(duration<double, std::milli>(virtual_delay) /
                                               scale_);
}

std::unique_ptr<Alarm> LoopClock::make_alarm() { return std::make_unique<LoopAlarm>(io_, *this); }

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
  }
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

std::string format_utc(TimePoint t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  if (secs == t) return date::format("%FT%TZ", secs);
  return date::format("%FT%TZ", t);
}

}  // namespace nursery
