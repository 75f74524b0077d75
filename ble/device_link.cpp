#include "ble/device_link.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "ble/backoff.hpp"
#include "ble/bluez.hpp"

namespace nursery::ble {
namespace {

namespace errors = bluez::errors;

std::string human(milliseconds d) {
  if (d < milliseconds(1'000)) return fmt::format("{} ms", d.count());
  if (d < milliseconds(10'000) && d.count() % 1'000 != 0)
    return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1'000.0);
  return fmt::format("{} s", (d.count() + 500) / 1'000);
}

const char* op_name(int kind) {
  static constexpr const char* kNames[] = {"a read", "a write", "StartNotify", "StopNotify"};
  return kNames[kind];
}

}  // namespace

DeviceLink::DeviceLink(LinkContext& context, const Options& options, Logger log,
                       std::string address, std::string adapter)
    : io_(context.io()),
      context_(&context),
      options_(options),
      log_(std::move(log)),
      address_(std::move(address)),
      adapter_(std::move(adapter)),
      timer_(context.io()),
      retry_timer_(context.io()) {}

DeviceLink::~DeviceLink() {
  if (!context_) return;
  const bool linked = phase_ == Phase::Connecting || phase_ == Phase::AbortWait ||
                      phase_ == Phase::Resolving || phase_ == Phase::Ready;
  connect_call_.cancel();
  op_call_.cancel();
  end_connect();
  stop_search();
  // The last handle is gone: leave the device free for others.
  if (linked) disconnect_quietly();
}

void DeviceLink::start() { evaluate(); }

void DeviceLink::shutdown() {
  if (!context_) return;
  if (phase_ == Phase::Ready) leave_ready("the BLE manager stopped");
  const bool linked = phase_ == Phase::Connecting || phase_ == Phase::AbortWait ||
                      phase_ == Phase::Resolving || phase_ == Phase::Ready;
  cancel_timer();
  connect_call_.cancel();
  end_connect();
  stop_search();
  if (linked) disconnect_quietly();
  phase_ = Phase::Closed;
  set_public(LinkState::Unavailable, "the BLE manager stopped");
  context_ = nullptr;
}

// --- deciding what to do next ------------------------------------------------

void DeviceLink::evaluate() {
  if (!context_) return;
  cancel_timer();
  auto bluez = context_->bluez_state(adapter_);
  if (bluez.kind != LinkContext::BluezState::Kind::Ready) {
    stop_search();
    device_path_.clear();
    phase_ = Phase::Unavailable;
    set_public(bluez.kind == LinkContext::BluezState::Kind::Loading ? LinkState::Connecting
                                                                    : LinkState::Unavailable,
               bluez.reason);
    return;
  }
  auto path = context_->mirror().find_device(address_, adapter_);
  if (!path) {
    device_path_.clear();
    start_search();
    return;
  }
  device_path_ = *path;
  stop_search();
  bluez::Device1 device(context_->mirror().find(device_path_, bluez::Device1::kInterface));
  if (auto r = device.rssi()) rssi_ = r;
  if (device.connected()) {
    if (device.services_resolved()) {
      become_ready(true);
    } else {
      log_.info("{}: already connected; waiting for its services", address_);
      enter_resolving();
    }
    return;
  }
  if (context_->discovery().busy()) {
    phase_ = Phase::WaitingForScan;
    set_public(LinkState::Connecting, "waiting for a scan to end");
    return;
  }
  start_connect();
}

void DeviceLink::bluez_changed() {
  if (!context_) return;
  auto bluez = context_->bluez_state(adapter_);
  if (bluez.kind != LinkContext::BluezState::Kind::Ready) {
    if (phase_ == Phase::Ready) leave_ready(bluez.reason);
    connect_call_.cancel();
    end_connect();
    evaluate();  // reports Unavailable (or Connecting while BlueZ loads)
    return;
  }
  if (phase_ == Phase::Unavailable) evaluate();
}

void DeviceLink::discovery_idle() {
  if (context_ && phase_ == Phase::WaitingForScan && !context_->discovery().busy()) evaluate();
}

// --- searching ---------------------------------------------------------------

void DeviceLink::start_search() {
  if (phase_ == Phase::Searching) return;
  phase_ = Phase::Searching;
  search_ = context_->discovery().request({});
  set_public(LinkState::Searching, "not known to BlueZ: scanning for it");
  arm(options_.search_window, &DeviceLink::on_search_expired);
}

void DeviceLink::stop_search() {
  if (!search_) return;
  if (context_) context_->discovery().release(*search_);
  search_.reset();
}

void DeviceLink::on_search_expired() {
  stop_search();
  fail_and_backoff(LinkState::Searching,
                   fmt::format("not found by a {} scan", human(options_.search_window)));
}

// --- connecting -----------------------------------------------------------------

void DeviceLink::start_connect() {
  Bus* bus = context_->bus();
  if (!bus) return evaluate();
  phase_ = Phase::Connecting;
  connect_in_flight_ = true;
  context_->discovery().connect_started();
  set_public(LinkState::Connecting, "connecting");
  connect_call_ = bluez::Device1::connect(*bus, device_path_, options_.connect_timeout,
                                          [this](Status s) { on_connect_reply(std::move(s)); });
}

void DeviceLink::end_connect() {
  if (!connect_in_flight_) return;
  connect_in_flight_ = false;
  if (context_) context_->discovery().connect_finished();
}

void DeviceLink::on_connect_reply(Status result) {
  end_connect();
  bluez::Device1 device(context_->mirror().find(device_path_, bluez::Device1::kInterface));
  if (result) {
    if (!device.exists()) return evaluate();
    if (device.services_resolved())
      become_ready(false);
    else
      enter_resolving();
    return;
  }
  const Error& e = result.error();
  if (e.code == errors::kFailed && e.message == errors::kAbortByLocal &&
      aborts_ < options_.abort_retries) {
    ++aborts_;
    log_.info("{}: le-connection-abort-by-local (#{}); connecting again once it is disconnected",
              address_, aborts_);
    if (device.connected()) {
      phase_ = Phase::AbortWait;
      set_public(LinkState::Connecting, "le-connection-abort-by-local: retrying");
      arm(options_.abort_wait, &DeviceLink::on_abort_wait_expired);
      return;
    }
    return evaluate();
  }
  if (e.code == errors::kAlreadyConnected || e.code == errors::kInProgress)
    return enter_resolving();
  if (e.code == errors::kUnknownObject) {
    device_path_.clear();
    return evaluate();
  }
  disconnect_quietly();  // ends whatever BlueZ is still attempting
  const std::string why =
      errors::is_timeout(e)
          ? fmt::format("no answer to Connect within {}", human(options_.connect_timeout))
          : fmt::format("Connect failed: {}: {}", e.code, e.message);
  fail_and_backoff(LinkState::Disconnected, why);
}

void DeviceLink::on_abort_wait_expired() {
  disconnect_quietly();
  fail_and_backoff(LinkState::Disconnected,
                   "le-connection-abort-by-local, and BlueZ did not report the disconnection");
}

void DeviceLink::enter_resolving() {
  was_ready_ = false;
  phase_ = Phase::Resolving;
  set_public(LinkState::Connecting, "waiting for its services to be resolved");
  arm(options_.resolve_timeout, &DeviceLink::on_resolve_expired);
}

void DeviceLink::on_resolve_expired() {
  disconnect_quietly();
  fail_and_backoff(LinkState::Disconnected,
                   fmt::format("services not resolved within {}", human(options_.resolve_timeout)));
}

void DeviceLink::become_ready(bool adopted) {
  cancel_timer();
  phase_ = Phase::Ready;
  attempts_ = 0;
  aborts_ = 0;
  if (adopted)
    log_.notice("{}: already connected ({}): adopted the connection", address_, device_path_);
  else
    log_.notice("{}: connected ({})", address_, device_path_);
  set_public(LinkState::Connected, adopted ? "adopted an existing connection" : "");
  // Sessions do not survive a disconnection or a bluetoothd restart: start
  // them on every connect, before anything a handle queues.
  for (const auto& uuid : wanted_notifications_) {
    Op op{OpKind::StartNotify, uuid, {}, true, true, {}, nullptr, 0};
    queue_.push_back(std::move(op));
  }
  run_next();
}

void DeviceLink::leave_ready(const std::string& reason) {
  op_call_.cancel();
  ++retry_generation_;
  retry_timer_.cancel();
  op_running_ = false;
  std::deque<Op> ops;
  ops.swap(queue_);
  for (auto& op : ops) {
    if (op.internal || !op.done) continue;
    Error e{"ble_not_connected", fmt::format("{} is not connected: {}", address_, reason), 503};
    boost::asio::post(io_, [owner = op.owner, done = std::move(op.done), e] {
      auto sub = owner.lock();
      if (sub && !sub->closed) done(e);
    });
  }
}

void DeviceLink::link_lost(const std::string& reason) {
  log_.warning("{}: {}", address_, reason);
  leave_ready(reason);
  attempts_ = 0;
  fail_and_backoff(LinkState::Disconnected, reason);
}

void DeviceLink::gatt_timeout(const std::string& what) {
  log_.warning("{}: {}: disconnecting to recover", address_, what);
  leave_ready(what);
  disconnect_quietly();
  attempts_ = 0;
  fail_and_backoff(LinkState::Disconnected, what);
}

void DeviceLink::fail_and_backoff(LinkState shown, const std::string& reason) {
  if (!context_) return;
  cancel_timer();
  if (phase_ == Phase::Ready) leave_ready(reason);
  connect_call_.cancel();
  end_connect();
  stop_search();
  const auto delay =
      backoff_delay({options_.backoff_min, options_.backoff_max, options_.backoff_jitter},
                    attempts_, context_->random());
  ++attempts_;
  phase_ = Phase::Backoff;
  if (attempts_ == 1 && shown != LinkState::Searching)
    log_.warning("{}: {}; retrying in {}", address_, reason, human(delay));
  else
    log_.info("{}: {}; retrying in {}", address_, reason, human(delay));
  set_public(shown, fmt::format("{}; retrying in {}", reason, human(delay)));
  arm(delay, &DeviceLink::evaluate);
}

void DeviceLink::disconnect_quietly() {
  if (device_path_.empty() || !context_ || !context_->bus()) return;
  bluez::Device1::disconnect(*context_->bus(), device_path_, options_.bluez_call_timeout, nullptr)
      .detach();
}

// --- BlueZ's signals -------------------------------------------------------------

void DeviceLink::interfaces_added(const std::string& path,
                                  const std::vector<std::string>& interfaces) {
  if (!context_) return;
  auto has = [&](const char* name) {
    return std::find(interfaces.begin(), interfaces.end(), name) != interfaces.end();
  };
  if (has(bluez::Device1::kInterface) && path != device_path_ &&
      (phase_ == Phase::Searching || phase_ == Phase::Backoff || phase_ == Phase::Unavailable)) {
    if (context_->mirror().find_device(address_, adapter_) == path) evaluate();
    return;
  }
  if (path == device_path_ && has(bluez::Battery1::kInterface)) {
    if (auto percent = battery()) deliver_battery(*percent);
  }
}

void DeviceLink::interfaces_removed(const std::string& path,
                                    const std::vector<std::string>& interfaces) {
  if (!context_ || device_path_.empty() || path != device_path_) return;
  if (std::find(interfaces.begin(), interfaces.end(), bluez::Device1::kInterface) ==
      interfaces.end())
    return;
  log_.notice("{}: removed from BlueZ", address_);
  if (phase_ == Phase::Ready) leave_ready("the device was removed from BlueZ");
  cancel_timer();
  connect_call_.cancel();
  end_connect();
  device_path_.clear();
  phase_ = Phase::Backoff;
  set_public(LinkState::Disconnected, "removed from BlueZ");
  evaluate();  // scans for it
}

void DeviceLink::properties_changed(const std::string& path, const std::string& interface,
                                    const bluez::Properties& changed) {
  if (!context_ || device_path_.empty()) return;
  if (path == device_path_) {
    if (interface == bluez::Device1::kInterface) {
      auto rssi = changed.find("RSSI");
      if (rssi != changed.end())
        if (auto v = rssi->second.as_int()) rssi_ = static_cast<int>(*v);
      if (changed.count("Connected") || changed.count("ServicesResolved")) on_device_state(changed);
    } else if (interface == bluez::Battery1::kInterface && changed.count("Percentage")) {
      if (auto percent = battery()) deliver_battery(*percent);
    }
    return;
  }
  if (interface == bluez::GattCharacteristic1::kInterface &&
      path.compare(0, device_path_.size() + 1, device_path_ + "/") == 0) {
    if (const Bytes* value = bluez::GattCharacteristic1::changed_value(changed))
      deliver_notification(path, *value);
  }
}

void DeviceLink::on_device_state(const bluez::Properties& changed) {
  bluez::Device1 device(context_->mirror().find(device_path_, bluez::Device1::kInterface));
  const bool connected = device.connected();
  const bool resolved = device.services_resolved();
  auto connected_now = [&] {
    auto it = changed.find("Connected");
    return it != changed.end() && it->second.as_bool().value_or(false);
  };
  switch (phase_) {
    case Phase::Resolving:
      if (!connected && was_ready_)
        link_lost("the link was lost");
      else if (!connected)
        fail_and_backoff(LinkState::Disconnected, "disconnected before its services were resolved");
      else if (resolved)
        become_ready(false);
      break;
    case Phase::AbortWait:
      if (!connected) evaluate();
      break;
    case Phase::Ready:
      if (!connected) {
        link_lost("the link was lost");
      } else if (!resolved) {
        leave_ready("its services are being resolved again");
        enter_resolving();
        was_ready_ = true;
      }
      break;
    case Phase::Backoff:
    case Phase::WaitingForScan:
      if (connected_now()) evaluate();  // connected by someone else: adopt it
      break;
    default:
      break;
  }
}

// --- handles --------------------------------------------------------------------

void DeviceLink::attach(const std::shared_ptr<LinkSubscriber>& subscriber) {
  subscribers_.push_back(subscriber);
}

void DeviceLink::detach(const LinkSubscriber* subscriber) {
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [subscriber](const std::weak_ptr<LinkSubscriber>& w) {
                                      auto s = w.lock();
                                      return !s || s.get() == subscriber;
                                    }),
                     subscribers_.end());
  std::set<std::string> still;
  for (const auto& w : subscribers_)
    if (auto s = w.lock())
      for (const auto& [uuid, handler] : s->on_notify) still.insert(uuid);
  for (auto it = wanted_notifications_.begin(); it != wanted_notifications_.end();) {
    if (still.count(*it)) {
      ++it;
      continue;
    }
    if (phase_ == Phase::Ready && !subscribers_.empty())
      enqueue(Op{OpKind::StopNotify, *it, {}, true, true, {}, nullptr, 0});
    it = wanted_notifications_.erase(it);
  }
}

void DeviceLink::notify_added(const std::string& uuid) {
  if (wanted_notifications_.insert(uuid).second && phase_ == Phase::Ready)
    enqueue(Op{OpKind::StartNotify, uuid, {}, true, true, {}, nullptr, 0});
}

void DeviceLink::read(std::weak_ptr<LinkSubscriber> owner, const std::string& uuid,
                      std::function<void(Expected<Bytes>)> done) {
  enqueue(Op{OpKind::Read, uuid, {}, true, false, std::move(owner), std::move(done), 0});
}

void DeviceLink::write(std::weak_ptr<LinkSubscriber> owner, const std::string& uuid, Bytes value,
                       bool with_response, std::function<void(Status)> done) {
  auto adapt = [done = std::move(done)](Expected<Bytes> r) {
    if (r)
      done(Ok{});
    else
      done(r.error());
  };
  enqueue(Op{OpKind::Write, uuid, std::move(value), with_response, false, std::move(owner),
             std::move(adapt), 0});
}

std::optional<int> DeviceLink::battery() const {
  if (!context_ || device_path_.empty()) return std::nullopt;
  return bluez::Battery1(context_->mirror().find(device_path_, bluez::Battery1::kInterface))
      .percentage();
}

// --- the GATT queue -------------------------------------------------------------

void DeviceLink::enqueue(Op op) {
  if (phase_ != Phase::Ready) {
    if (op.internal || !op.done) return;
    Error e{"ble_not_connected",
            fmt::format("{} is not connected{}{}", address_, reason_.empty() ? "" : ": ", reason_),
            503};
    boost::asio::post(io_, [owner = op.owner, done = std::move(op.done), e] {
      auto sub = owner.lock();
      if (sub && !sub->closed) done(e);
    });
    return;
  }
  queue_.push_back(std::move(op));
  run_next();
}

void DeviceLink::run_next() {
  if (phase_ != Phase::Ready || op_running_ || !context_ || !context_->bus()) return;
  while (!queue_.empty()) {
    Op& op = queue_.front();
    if (!op.internal) {
      auto sub = op.owner.lock();
      if (!sub || sub->closed) {  // its handle is gone: nobody wants it done
        queue_.pop_front();
        continue;
      }
    }
    auto path = context_->mirror().find_characteristic(device_path_, op.uuid);
    if (!path) {
      if (op.internal) {
        log_.warning("{}: no characteristic {} to {}", address_, op.uuid,
                     op_name(static_cast<int>(op.kind)));
        queue_.pop_front();
        continue;
      }
      finish_op(Error{"ble_no_characteristic",
                      fmt::format("{} has no characteristic {}", address_, op.uuid), 404});
      continue;
    }
    op_running_ = true;
    Bus& bus = *context_->bus();
    const auto timeout = options_.gatt_timeout;
    auto status_reply = [this](Status s) {
      on_op_reply(s ? Expected<Bytes>(Bytes{}) : Expected<Bytes>(s.error()));
    };
    switch (op.kind) {
      case OpKind::Read:
        op_call_ = bluez::GattCharacteristic1::read_value(
            bus, *path, timeout, [this](Expected<Bytes> r) { on_op_reply(std::move(r)); });
        break;
      case OpKind::Write:
        op_call_ = bluez::GattCharacteristic1::write_value(bus, *path, op.value, op.with_response,
                                                           timeout, status_reply);
        break;
      case OpKind::StartNotify:
        op_call_ = bluez::GattCharacteristic1::start_notify(bus, *path, timeout, status_reply);
        break;
      case OpKind::StopNotify:
        op_call_ = bluez::GattCharacteristic1::stop_notify(bus, *path, timeout, status_reply);
        break;
    }
    return;
  }
}

void DeviceLink::on_op_reply(Expected<Bytes> result) {
  op_running_ = false;
  if (queue_.empty()) return;
  Op& op = queue_.front();
  if (!result) {
    const Error e = result.error();
    if (e.code == errors::kInProgress && op.retries < options_.in_progress_retries) {
      ++op.retries;
      op_running_ = true;  // holds the queue until the retry
      const auto generation = ++retry_generation_;
      retry_timer_.expires_after(options_.in_progress_retry);
      retry_timer_.async_wait(
          [weak = weak_from_this(), generation](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (ec || !self || self->retry_generation_ != generation) return;
            self->op_running_ = false;
            self->run_next();
          });
      return;
    }
    const char* what = op_name(static_cast<int>(op.kind));
    if (errors::is_timeout(e)) {
      const std::string why = fmt::format("no answer to {} of {} within {}", what, op.uuid,
                                          human(options_.gatt_timeout));
      finish_op(Error{"ble_timeout", fmt::format("{}: {}", address_, why), 504});
      return gatt_timeout(why);
    }
    if (op.internal) {
      log_.warning("{}: {} of {} failed: {}: {}", address_, what, op.uuid, e.code, e.message);
      queue_.pop_front();
      return run_next();
    }
    std::string code = "ble_failed";
    if (e.code == errors::kNotPermitted) code = "ble_not_permitted";
    if (e.code == errors::kNotAuthorized) code = "ble_not_authorized";
    if (e.code == errors::kNotSupported) code = "ble_not_supported";
    if (e.code == errors::kInvalidArguments) code = "ble_invalid_value";
    if (e.code == errors::kInProgress) code = "ble_busy";
    if (e.code == errors::kNotConnected ||
        (e.code == errors::kFailed && e.message == "Not connected"))
      code = "ble_not_connected";
    finish_op(Error{
        code,
        fmt::format("{}: {} of {} failed: {}: {}", address_, what, op.uuid, e.code, e.message),
        502});
    return run_next();
  }
  finish_op(std::move(result));
  run_next();
}

void DeviceLink::finish_op(Expected<Bytes> result) {
  Op op = std::move(queue_.front());
  queue_.pop_front();
  if (op.internal || !op.done) return;
  boost::asio::post(
      io_, [owner = op.owner, done = std::move(op.done), result = std::move(result)]() mutable {
        auto sub = owner.lock();
        if (sub && !sub->closed) done(std::move(result));
      });
}

// --- delivering --------------------------------------------------------------

template <typename F>
void DeviceLink::post_to_subscribers(F fn) {
  for (const auto& weak : subscribers_)
    boost::asio::post(io_, [weak, fn] {
      auto sub = weak.lock();
      if (sub && !sub->closed) fn(*sub);
    });
}

void DeviceLink::set_public(LinkState state, std::string reason) {
  if (state == state_ && reason == reason_) return;
  state_ = state;
  reason_ = std::move(reason);
  log_.debug("{}: link {} {}", address_, static_cast<int>(state_), reason_);
  LinkEvent event{state_, reason_};
  post_to_subscribers([event](LinkSubscriber& sub) {
    auto handlers = sub.on_link;  // a handler may add handlers
    for (auto& h : handlers) {
      if (sub.closed) return;
      h(event);
    }
  });
}

void DeviceLink::deliver_notification(const std::string& path, const Bytes& value) {
  const auto* props = context_->mirror().find(path, bluez::GattCharacteristic1::kInterface);
  if (!props) return;
  const std::string uuid = bluez::GattCharacteristic1(props).uuid();
  post_to_subscribers([uuid, value](LinkSubscriber& sub) {
    auto handlers = sub.on_notify;
    for (auto& [u, h] : handlers) {
      if (sub.closed) return;
      if (u == uuid) h(value);
    }
  });
}

void DeviceLink::deliver_battery(int percent) {
  post_to_subscribers([percent](LinkSubscriber& sub) {
    auto handlers = sub.on_battery;
    for (auto& h : handlers) {
      if (sub.closed) return;
      h(percent);
    }
  });
}

// --- timers -------------------------------------------------------------------

void DeviceLink::arm(std::chrono::milliseconds after, void (DeviceLink::*then)()) {
  const auto generation = ++timer_generation_;
  timer_.expires_after(after);
  timer_.async_wait(
      [weak = weak_from_this(), generation, then](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || self->timer_generation_ != generation || !self->context_) return;
        (self.get()->*then)();
      });
}

void DeviceLink::cancel_timer() {
  ++timer_generation_;
  timer_.cancel();
}

}  // namespace nursery::ble
