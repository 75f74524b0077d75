#pragma once
// A list of callbacks and the handles that keep them registered: the hub's
// events, the clock's jump watch. Destroying the Subscription (or the
// Signal) unregisters; a callback removed while the signal is being emitted
// is not called. Thread: the loop thread. emit() propagates what a callback
// throws; callbacks here do not throw.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace nursery {

class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::move(other.cancel_)) {
    other.cancel_ = nullptr;
  }
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::move(other.cancel_);
      other.cancel_ = nullptr;
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }
  void reset() {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

template <typename... Args>
class Signal {
 public:
  [[nodiscard]] Subscription subscribe(std::function<void(Args...)> callback) {
    const std::uint64_t id = slots_->next++;
    slots_->callbacks.emplace(id, std::move(callback));
    return Subscription([weak = std::weak_ptr<Slots>(slots_), id] {
      if (auto slots = weak.lock()) slots->callbacks.erase(id);
    });
  }

  void emit(Args... args) const {
    auto slots = slots_;  // a callback may destroy this signal's owner
    std::vector<std::uint64_t> ids;
    ids.reserve(slots->callbacks.size());
    for (const auto& [id, callback] : slots->callbacks) ids.push_back(id);
    for (auto id : ids) {
      auto it = slots->callbacks.find(id);
      if (it == slots->callbacks.end()) continue;
      auto callback = it->second;  // it may unsubscribe itself
      callback(args...);
    }
  }

  bool empty() const { return slots_->callbacks.empty(); }

 private:
  struct Slots {
    std::map<std::uint64_t, std::function<void(Args...)>> callbacks;
    std::uint64_t next = 0;
  };
  std::shared_ptr<Slots> slots_ = std::make_shared<Slots>();
};

}  // namespace nursery
