#include "ble/discovery.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <set>

#include "ble/object_mirror.hpp"

namespace nursery::ble {

Discovery::Discovery(boost::asio::io_context& io, Logger log,
                     std::chrono::milliseconds call_timeout, Callbacks callbacks)
    : io_(io),
      log_(std::move(log)),
      call_timeout_(call_timeout),
      callbacks_(std::move(callbacks)) {}

void Discovery::attach(Bus* bus, const ObjectMirror* mirror) {
  adapters_.clear();  // cancels calls in flight
  bus_ = bus;
  mirror_ = mirror;
  reconcile();
}

Discovery::Token Discovery::request(std::vector<std::string> uuids) {
  const Token token = next_token_++;
  requests_.emplace(token, std::move(uuids));
  reconcile();
  return token;
}

void Discovery::release(Token token) {
  if (requests_.erase(token) == 0) return;
  if (requests_.empty())
    for (auto& [path, st] : adapters_) st.failed = false;
  reconcile();
}

bool Discovery::busy() const {
  if (!requests_.empty()) return true;
  return std::any_of(adapters_.begin(), adapters_.end(),
                     [](const auto& a) { return a.second.active || a.second.calling; });
}

bool Discovery::active() const {
  return std::any_of(adapters_.begin(), adapters_.end(),
                     [](const auto& a) { return a.second.active; });
}

void Discovery::connect_started() { ++connects_; }

void Discovery::connect_finished() {
  if (connects_ > 0) --connects_;
  if (connects_ == 0) reconcile();
}

void Discovery::adapters_changed() {
  for (auto& [path, st] : adapters_) st.failed = false;
  reconcile();
}

bluez::Adapter1::Filter Discovery::merged() const {
  std::set<std::string> uuids;
  for (const auto& [token, wanted] : requests_) {
    if (wanted.empty()) return {};  // someone wants every device
    uuids.insert(wanted.begin(), wanted.end());
  }
  return {std::vector<std::string>(uuids.begin(), uuids.end())};
}

void Discovery::reconcile() {
  if (bus_ && mirror_ && mirror_->status() == ObjectMirror::Status::Ready) {
    // The powered adapters are the ones to scan on.
    std::set<std::string> usable;
    for (const auto& path : mirror_->with_interface(bluez::Adapter1::kInterface))
      if (bluez::Adapter1(mirror_->find(path, bluez::Adapter1::kInterface)).powered())
        usable.insert(path);
    for (auto it = adapters_.begin(); it != adapters_.end();)
      it = usable.count(it->first) ? std::next(it) : adapters_.erase(it);
    for (const auto& path : usable) adapters_.try_emplace(path);

    const bool want = !requests_.empty();
    const auto filter = merged();
    for (auto& [path, st] : adapters_) {
      if (st.calling) continue;
      if (want && !st.active && !st.failed && connects_ == 0)
        start(path, filter);
      else if (want && st.active && !(st.applied == filter))
        change_filter(path, filter);
      else if (!want && st.active)
        stop(path);
    }
  } else {
    adapters_.clear();
  }

  const bool now_busy = busy();
  const bool now_active = active();
  if (now_active && !was_active_ && callbacks_.started) post(callbacks_.started);
  if (!now_busy && was_busy_ && callbacks_.idle) post(callbacks_.idle);
  was_busy_ = now_busy;
  was_active_ = now_active;
}

void Discovery::start(const std::string& path, const bluez::Adapter1::Filter& filter) {
  auto& st = adapters_[path];
  st.calling = true;
  st.call = bluez::Adapter1::set_discovery_filter(
      *bus_, path, filter, call_timeout_, [this, path, filter](Status set) {
        if (!set)
          log_.warning("SetDiscoveryFilter on {} failed ({}: {}); scanning without it", path,
                       set.error().code, set.error().message);
        adapters_[path].call = bluez::Adapter1::start_discovery(
            *bus_, path, call_timeout_, [this, path, filter](Status started) {
              auto& state = adapters_[path];
              state.calling = false;
              if (started || started.error().code == bluez::errors::kInProgress) {
                state.active = true;
                state.applied = filter;
                log_.debug("discovery started on {}", path);
              } else {
                state.failed = true;
                log_.warning("StartDiscovery on {} failed: {}: {}", path, started.error().code,
                             started.error().message);
                if (callbacks_.failed) {
                  Error e{"ble_scan_failed",
                          "the Bluetooth adapter refused to scan: " + started.error().message, 503};
                  post([f = callbacks_.failed, e] { f(e); });
                }
              }
              reconcile();
            });
      });
}

void Discovery::change_filter(const std::string& path, const bluez::Adapter1::Filter& filter) {
  auto& st = adapters_[path];
  st.calling = true;
  st.call = bluez::Adapter1::set_discovery_filter(
      *bus_, path, filter, call_timeout_, [this, path, filter](Status set) {
        auto& state = adapters_[path];
        state.calling = false;
        state.applied = filter;
        if (!set)
          log_.warning("SetDiscoveryFilter on {} failed: {}: {}", path, set.error().code,
                       set.error().message);
        reconcile();
      });
}

void Discovery::stop(const std::string& path) {
  auto& st = adapters_[path];
  st.calling = true;
  st.call =
      bluez::Adapter1::stop_discovery(*bus_, path, call_timeout_, [this, path](Status stopped) {
        auto& state = adapters_[path];
        state.calling = false;
        state.active = false;
        if (!stopped)
          log_.debug("StopDiscovery on {}: {}: {}", path, stopped.error().code,
                     stopped.error().message);
        else
          log_.debug("discovery stopped on {}", path);
        // Leave no filter behind for other clients of this adapter.
        bluez::Adapter1::set_discovery_filter(*bus_, path, std::nullopt, call_timeout_, nullptr)
            .detach();
        reconcile();
      });
}

void Discovery::post(std::function<void()> fn) {
  boost::asio::post(io_, [alive = std::weak_ptr<int>(alive_), fn = std::move(fn)] {
    if (alive.lock()) fn();
  });
}

}  // namespace nursery::ble
