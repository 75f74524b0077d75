#include "ble/ble_manager.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <random>

#include "ble/backoff.hpp"
#include "ble/bluez.hpp"
#include "ble/bus.hpp"
#include "ble/device_link.hpp"
#include "ble/discovery.hpp"
#include "ble/object_mirror.hpp"

namespace nursery::ble {
namespace {

namespace asio = boost::asio;
using Kind = LinkContext::BluezState::Kind;

BleLinkState to_public(LinkState s) {
  switch (s) {
    case LinkState::Unavailable:
      return BleLinkState::Unavailable;
    case LinkState::Searching:
      return BleLinkState::Searching;
    case LinkState::Connecting:
      return BleLinkState::Connecting;
    case LinkState::Connected:
      return BleLinkState::Connected;
    case LinkState::Disconnected:
      return BleLinkState::Disconnected;
  }
  return BleLinkState::Unavailable;
}

BleLinkEvent to_public(const LinkEvent& e) { return {to_public(e.state), e.reason}; }

// User input quoted in a message, cut short and without control characters.
std::string quoted(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (text.size() > 64) out += "...";
  return "'" + out + "'";
}

constexpr std::size_t kMaxAttributeValue = 512;  // Bluetooth Core, Vol 3, Part F, 3.2.9

// A handle on a real link.
class DeviceHandle final : public BleDevice {
 public:
  DeviceHandle(asio::io_context& io, Logger log, std::shared_ptr<DeviceLink> link)
      : io_(io), log_(std::move(log)), link_(std::move(link)) {
    link_->attach(sub_);
  }
  ~DeviceHandle() override {
    sub_->closed = true;
    link_->detach(sub_.get());
  }

  void on_link(std::function<void(const BleLinkEvent&)> handler) override {
    if (!handler) return;
    auto adapted = [handler](const LinkEvent& e) { handler(to_public(e)); };
    sub_->on_link.push_back(adapted);
    // The current state first, so a driver need not ask.
    asio::post(io_, [weak = std::weak_ptr<LinkSubscriber>(sub_), adapted, e = link_->event()] {
      auto sub = weak.lock();
      if (sub && !sub->closed) adapted(e);
    });
  }

  BleLinkState link_state() const override { return to_public(link_->event().state); }

  void read(std::string characteristic_uuid, std::function<void(Expected<Bytes>)> done) override {
    if (!done) return;
    auto uuid = bluez::normalize_uuid(characteristic_uuid);
    if (!uuid) return fail(std::move(done), bad_uuid(characteristic_uuid));
    link_->read(sub_, *uuid, std::move(done));
  }

  void write(std::string characteristic_uuid, Bytes value, bool with_response,
             std::function<void(Status)> done) override {
    if (!done) done = [](Status) {};
    auto uuid = bluez::normalize_uuid(characteristic_uuid);
    if (!uuid) return fail(std::move(done), bad_uuid(characteristic_uuid));
    if (value.size() > kMaxAttributeValue)
      return fail(std::move(done),
                  Error{"invalid_value",
                        fmt::format("a characteristic value is at most {} bytes, not {}",
                                    kMaxAttributeValue, value.size()),
                        400});
    link_->write(sub_, *uuid, std::move(value), with_response, std::move(done));
  }

  void notify(std::string characteristic_uuid, std::function<void(const Bytes&)> handler) override {
    if (!handler) return;
    auto uuid = bluez::normalize_uuid(characteristic_uuid);
    if (!uuid) {
      log_.warning("{}: notify: {}", link_->address(), bad_uuid(characteristic_uuid).message);
      return;
    }
    sub_->on_notify.emplace_back(*uuid, std::move(handler));
    link_->notify_added(*uuid);
  }

  std::optional<int> battery_percent() const override { return link_->battery(); }
  std::optional<int> rssi() const override { return link_->rssi(); }
  void on_battery(std::function<void(int percent)> handler) override {
    if (handler) sub_->on_battery.push_back(std::move(handler));
  }

 private:
  static Error bad_uuid(std::string_view text) {
    return Error{"invalid_value",
                 fmt::format("not a characteristic UUID: {} (expected e.g. "
                             "0000fff1-0000-1000-8000-00805f9b34fb or fff1)",
                             quoted(text)),
                 400};
  }
  template <typename Done>
  void fail(Done done, Error e) {
    asio::post(io_, [weak = std::weak_ptr<LinkSubscriber>(sub_), done = std::move(done), e] {
      auto sub = weak.lock();
      if (sub && !sub->closed) done(e);
    });
  }

  asio::io_context& io_;
  Logger log_;
  std::shared_ptr<DeviceLink> link_;
  std::shared_ptr<LinkSubscriber> sub_ = std::make_shared<LinkSubscriber>();
};

// A handle asked for with a malformed address or adapter: it stays Unavailable.
class InvalidHandle final : public BleDevice {
 public:
  InvalidHandle(asio::io_context& io, std::string reason) : io_(io), reason_(std::move(reason)) {}
  void on_link(std::function<void(const BleLinkEvent&)> handler) override {
    if (handler)
      post([handler, e = BleLinkEvent{BleLinkState::Unavailable, reason_}] { handler(e); });
  }
  BleLinkState link_state() const override { return BleLinkState::Unavailable; }
  void read(std::string, std::function<void(Expected<Bytes>)> done) override {
    if (done) post([done, e = error()] { done(e); });
  }
  void write(std::string, Bytes, bool, std::function<void(Status)> done) override {
    if (done) post([done, e = error()] { done(e); });
  }
  void notify(std::string, std::function<void(const Bytes&)>) override {}
  std::optional<int> battery_percent() const override { return std::nullopt; }
  std::optional<int> rssi() const override { return std::nullopt; }
  void on_battery(std::function<void(int)>) override {}

 private:
  Error error() const { return Error{"invalid_value", reason_, 400}; }
  void post(std::function<void()> fn) {
    asio::post(io_, [alive = std::weak_ptr<int>(alive_), fn = std::move(fn)] {
      if (alive.lock()) fn();
    });
  }
  asio::io_context& io_;
  std::string reason_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace

// --- the core --------------------------------------------------------------------

class BleManager::Core final : public LinkContext,
                               public ObjectMirror::Listener,
                               public std::enable_shared_from_this<Core> {
 public:
  Core(asio::io_context& io, Logger log, Options options)
      : io_(io),
        log_(std::move(log)),
        options_(std::move(options)),
        mirror_(io, log_, *this,
                {options_.bluez_call_timeout, options_.retry_min, options_.retry_max}),
        discovery_(io, log_, options_.bluez_call_timeout,
                   {[this] { discovery_started(); }, [this] { discovery_idle(); },
                    [this](const Error& e) { discovery_failed(e); }}),
        reconnect_timer_(io),
        rng_(std::random_device{}()) {}

  ~Core() override {
    for (auto& [key, weak] : links_)
      if (auto link = weak.lock()) link->shutdown();
    scans_.clear();  // pending scans are dropped, not answered
    discovery_.attach(nullptr, nullptr);
    mirror_.stop();
    bus_.reset();  // flushes the last Disconnects
  }

  void start() { connect_bus(); }

  // --- LinkContext ---
  asio::io_context& io() override { return io_; }
  Bus* bus() override { return bus_.get(); }
  const ObjectMirror& mirror() const override { return mirror_; }
  Discovery& discovery() override { return discovery_; }
  double random() override {
    if (options_.random) return options_.random();
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }

  BluezState bluez_state(const std::string& adapter) const override {
    if (!bus_) return {Kind::Unavailable, bus_error_.empty() ? "no D-Bus connection" : bus_error_};
    switch (mirror_.status()) {
      case ObjectMirror::Status::Stopped:
      case ObjectMirror::Status::Loading:
        return {Kind::Loading, "waiting for BlueZ"};
      case ObjectMirror::Status::Unavailable:
        return {Kind::Unavailable, mirror_.reason()};
      case ObjectMirror::Status::Ready:
        break;
    }
    const auto adapters = mirror_.with_interface(bluez::Adapter1::kInterface);
    auto powered = [this](const std::string& path) {
      return bluez::Adapter1(mirror_.find(path, bluez::Adapter1::kInterface)).powered();
    };
    if (!adapter.empty()) {
      const std::string path = std::string(bluez::kRoot) + adapter;
      if (std::find(adapters.begin(), adapters.end(), path) == adapters.end())
        return {Kind::Unavailable, fmt::format("no Bluetooth adapter {}", adapter)};
      if (!powered(path))
        return {Kind::Unavailable, fmt::format("Bluetooth adapter {} is powered off", adapter)};
      return {Kind::Ready, ""};
    }
    if (adapters.empty()) return {Kind::Unavailable, "no Bluetooth adapter"};
    if (std::none_of(adapters.begin(), adapters.end(), powered))
      return {Kind::Unavailable, "the Bluetooth adapter is powered off"};
    return {Kind::Ready, ""};
  }

  // --- ObjectMirror::Listener ---
  void mirror_ready() override {
    discovery_.attach(bus_.get(), &mirror_);
    note_availability();
    for_each_link([](DeviceLink& l) { l.bluez_changed(); });
  }

  void mirror_unavailable(const std::string& reason) override {
    discovery_.attach(nullptr, nullptr);
    fail_scans(Error{"ble_unavailable", reason, 503});
    note_availability();
    for_each_link([](DeviceLink& l) { l.bluez_changed(); });
  }

  void interfaces_added(const std::string& path,
                        const std::vector<std::string>& interfaces) override {
    if (has(interfaces, bluez::Adapter1::kInterface)) adapters_changed();
    if (has(interfaces, bluez::Device1::kInterface)) sighted(path);
    for_each_link([&](DeviceLink& l) { l.interfaces_added(path, interfaces); });
  }

  void interfaces_removed(const std::string& path,
                          const std::vector<std::string>& interfaces) override {
    if (has(interfaces, bluez::Adapter1::kInterface)) adapters_changed();
    for_each_link([&](DeviceLink& l) { l.interfaces_removed(path, interfaces); });
  }

  void properties_changed(const std::string& path, const std::string& interface,
                          const bluez::Properties& changed) override {
    if (interface == bluez::Adapter1::kInterface && changed.count("Powered")) adapters_changed();
    if (interface == bluez::Device1::kInterface && bluez::Device1::is_advertisement(changed))
      sighted(path);
    for_each_link([&](DeviceLink& l) { l.properties_changed(path, interface, changed); });
  }

  // --- links ---
  std::shared_ptr<DeviceLink> link_for(const std::string& address, const std::string& adapter) {
    for (auto it = links_.begin(); it != links_.end();)
      it = it->second.expired() ? links_.erase(it) : std::next(it);
    const std::string key = address + "/" + adapter;
    if (auto existing = links_[key].lock()) return existing;
    auto link = std::make_shared<DeviceLink>(*this, options_, log_, address, adapter);
    links_[key] = link;
    link->start();
    return link;
  }

  std::size_t link_count() const {
    return static_cast<std::size_t>(std::count_if(
        links_.begin(), links_.end(), [](const auto& l) { return !l.second.expired(); }));
  }

  // --- scans ---
  void scan(std::chrono::seconds duration, ScanFilter filter,
            std::function<void(Expected<std::vector<BleScanResult>>)> done) {
    if (!done) return;
    auto refuse = [this, &done](Error e) { post([done, e] { done(e); }); };
    if (duration < std::chrono::seconds(1) || duration > std::chrono::seconds(300))
      return refuse(Error{"invalid_value",
                          fmt::format("a scan lasts 1 to 300 s, not {} s", duration.count()), 400});
    std::vector<std::string> uuids;
    for (const auto& text : filter.service_uuids) {
      auto uuid = bluez::normalize_uuid(text);
      if (!uuid)
        return refuse(
            Error{"invalid_value", fmt::format("not a service UUID: {}", quoted(text)), 400});
      uuids.push_back(*uuid);
    }
    auto state = bluez_state("");
    if (state.kind != Kind::Ready)
      return refuse(Error{"ble_unavailable",
                          state.kind == Kind::Loading ? "BlueZ is still starting" : state.reason,
                          503});
    const std::uint64_t id = next_scan_++;
    auto& job = scans_[id];
    job.uuids = uuids;
    job.duration = duration;
    job.done = std::move(done);
    job.timer = std::make_unique<asio::steady_timer>(io_);
    job.token = discovery_.request(std::move(uuids));
    if (discovery_.active()) start_scan(id);
  }

  void connect_bus() {
    auto bus = Bus::open(io_, options_.bus_address);
    if (!bus) {
      bus_error_ = bus.error().message;
      note_availability();
      for_each_link([](DeviceLink& l) { l.bluez_changed(); });
      schedule_reconnect();
      return;
    }
    bus_ = std::move(*bus);
    bus_->on_lost([this, alive = std::weak_ptr<int>(alive_)](const std::string& reason) {
      if (alive.lock()) bus_lost(reason);
    });
    if (mirror_.start(*bus_) == ObjectMirror::Status::Unavailable) {
      bus_error_ = mirror_.reason();
      mirror_.stop();
      bus_.reset();
      note_availability();
      for_each_link([](DeviceLink& l) { l.bluez_changed(); });
      schedule_reconnect();
      return;
    }
    bus_error_.clear();
    reconnects_ = 0;
    for_each_link([](DeviceLink& l) { l.bluez_changed(); });
  }

  std::uint64_t bus_wakeups() const { return bus_ ? bus_->wakeups() : 0; }
  const Logger& logger() const { return log_; }

 private:
  struct ScanJob {
    Discovery::Token token = 0;
    std::vector<std::string> uuids;
    std::chrono::seconds duration{0};
    std::function<void(Expected<std::vector<BleScanResult>>)> done;
    std::map<std::string, BleScanResult> seen;
    bool started = false;
    std::unique_ptr<asio::steady_timer> timer;
  };

  static bool has(const std::vector<std::string>& v, const char* name) {
    return std::find(v.begin(), v.end(), name) != v.end();
  }

  template <typename F>
  void for_each_link(F fn) {
    std::vector<std::shared_ptr<DeviceLink>> live;
    for (auto& [key, weak] : links_)
      if (auto link = weak.lock()) live.push_back(std::move(link));
    for (auto& link : live) fn(*link);
  }

  void post(std::function<void()> fn) {
    asio::post(io_, [alive = std::weak_ptr<int>(alive_), fn = std::move(fn)] {
      if (alive.lock()) fn();
    });
  }

  void adapters_changed() {
    discovery_.adapters_changed();
    note_availability();
    for_each_link([](DeviceLink& l) { l.bluez_changed(); });
  }

  void bus_lost(const std::string& reason) {
    log_.warning("lost the D-Bus connection: {}", reason);
    discovery_.attach(nullptr, nullptr);
    mirror_.stop();
    bus_.reset();
    bus_error_ = "lost the connection to the D-Bus system bus (" + reason + ")";
    fail_scans(Error{"ble_unavailable", bus_error_, 503});
    note_availability();
    for_each_link([](DeviceLink& l) { l.bluez_changed(); });
    schedule_reconnect();
  }

  void schedule_reconnect() {
    const auto delay =
        backoff_delay({options_.retry_min, options_.retry_max, 0.5}, reconnects_++, random());
    reconnect_timer_.expires_after(delay);
    reconnect_timer_.async_wait(
        [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
          if (!ec && alive.lock() && !bus_) connect_bus();
        });
  }

  // Logs the availability once per change: one clear line, not one per retry.
  void note_availability() {
    const auto state = bluez_state("");
    if (state.kind == Kind::Loading) return;
    const std::string reason = state.kind == Kind::Ready ? "" : state.reason;
    if (logged_ && reason == logged_reason_) return;
    logged_ = true;
    logged_reason_ = reason;
    if (reason.empty()) {
      std::string names;
      for (const auto& path : mirror_.with_interface(bluez::Adapter1::kInterface))
        names += (names.empty() ? "" : ", ") + path.substr(std::string(bluez::kRoot).size());
      log_.notice("BLE ready: BlueZ with adapter {}", names);
    } else {
      log_.warning(
          "BLE unavailable: {}. BLE devices are shown unavailable; this is picked up by itself "
          "once fixed",
          reason);
    }
  }

  void sighted(const std::string& path) {
    if (scans_.empty() || !discovery_.active()) return;
    bluez::Device1 device(mirror_.find(path, bluez::Device1::kInterface));
    auto address = bluez::normalize_address(device.address());
    if (!address) return;
    BleScanResult result{*address, device.name(), device.rssi(), device.uuids(),
                         device.manufacturer_ids()};
    for (auto& [id, job] : scans_) {
      if (!job.started) continue;
      const bool wanted =
          job.uuids.empty() ||
          std::any_of(result.service_uuids.begin(), result.service_uuids.end(),
                      [&](const std::string& u) {
                        return std::find(job.uuids.begin(), job.uuids.end(), u) != job.uuids.end();
                      });
      if (!wanted) continue;
      auto& seen = job.seen[*address];
      const auto last_rssi = seen.rssi;
      seen = result;
      if (!seen.rssi) seen.rssi = last_rssi;
    }
  }

  void discovery_started() {
    std::vector<std::uint64_t> waiting;
    for (auto& [id, job] : scans_)
      if (!job.started) waiting.push_back(id);
    for (auto id : waiting) start_scan(id);
  }

  void discovery_idle() {
    for_each_link([](DeviceLink& l) { l.discovery_idle(); });
  }

  void discovery_failed(const Error& e) {
    std::vector<std::uint64_t> waiting;
    for (auto& [id, job] : scans_)
      if (!job.started) waiting.push_back(id);
    for (auto id : waiting) finish_scan(id, e);
  }

  void start_scan(std::uint64_t id) {
    auto it = scans_.find(id);
    if (it == scans_.end() || it->second.started) return;
    it->second.started = true;
    it->second.timer->expires_after(it->second.duration);
    it->second.timer->async_wait(
        [this, id, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
          if (!ec && alive.lock()) finish_scan(id, std::nullopt);
        });
  }

  void finish_scan(std::uint64_t id, std::optional<Error> error) {
    auto it = scans_.find(id);
    if (it == scans_.end()) return;
    ScanJob job = std::move(it->second);
    scans_.erase(it);
    discovery_.release(job.token);
    if (error) {
      post([done = std::move(job.done), e = *error] { done(e); });
      return;
    }
    std::vector<BleScanResult> results;
    for (auto& [address, r] : job.seen) results.push_back(std::move(r));
    std::stable_sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
      return a.rssi.value_or(-1000) > b.rssi.value_or(-1000);
    });
    post([done = std::move(job.done), results = std::move(results)] { done(results); });
  }

  void fail_scans(const Error& e) {
    std::vector<std::uint64_t> ids;
    for (auto& [id, job] : scans_) ids.push_back(id);
    for (auto id : ids) finish_scan(id, e);
  }

  asio::io_context& io_;
  Logger log_;
  Options options_;
  std::unique_ptr<Bus> bus_;  // declared first: outlives what uses it
  std::string bus_error_;
  ObjectMirror mirror_;
  Discovery discovery_;
  std::map<std::string, std::weak_ptr<DeviceLink>> links_;
  std::map<std::uint64_t, ScanJob> scans_;
  std::uint64_t next_scan_ = 1;
  asio::steady_timer reconnect_timer_;
  int reconnects_ = 0;
  std::minstd_rand rng_;
  bool logged_ = false;
  std::string logged_reason_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// --- BleManager ------------------------------------------------------------------

BleManager::BleManager(boost::asio::io_context& io, Logger log, Options options)
    : core_(std::make_shared<Core>(io, std::move(log), std::move(options))) {
  core_->start();
}

BleManager::~BleManager() = default;

std::unique_ptr<BleDevice> BleManager::device(std::string address, std::string adapter) {
  auto normalized = bluez::normalize_address(address);
  if (!normalized)
    return std::make_unique<InvalidHandle>(
        core_->io(), fmt::format("not a Bluetooth address: {} (expected six hex pairs such as "
                                 "F3:53:11:AA:BB:CC)",
                                 quoted(address)));
  if (!adapter.empty() && !bluez::valid_adapter_name(adapter))
    return std::make_unique<InvalidHandle>(
        core_->io(),
        fmt::format("not a Bluetooth adapter name: {} (such as hci0)", quoted(adapter)));
  auto link = core_->link_for(*normalized, adapter);
  return std::make_unique<DeviceHandle>(core_->io(), Logger(core_->logger()), std::move(link));
}

void BleManager::scan(std::chrono::seconds duration,
                      std::function<void(Expected<std::vector<BleScanResult>>)> done) {
  core_->scan(duration, {}, std::move(done));
}

void BleManager::scan(std::chrono::seconds duration, ScanFilter filter,
                      std::function<void(Expected<std::vector<BleScanResult>>)> done) {
  core_->scan(duration, std::move(filter), std::move(done));
}

bool BleManager::available() const { return core_->bluez_state("").kind == Kind::Ready; }

std::string BleManager::unavailable_reason() const {
  auto state = core_->bluez_state("");
  return state.kind == Kind::Ready ? std::string() : state.reason;
}

BleManager::Stats BleManager::stats() const {
  return {core_->bus_wakeups(), core_->mirror().size(), core_->link_count()};
}

}  // namespace nursery::ble
