#include "ble/object_mirror.hpp"

#include <algorithm>

#include "ble/backoff.hpp"

namespace nursery::ble {
namespace {

std::string describe_unreachable(const Error& e) {
  if (e.code == bluez::errors::kServiceUnknown || e.code == bluez::errors::kNameHasNoOwner)
    return "BlueZ is not running (no org.bluez on the system bus)";
  if (e.code == bluez::errors::kAccessDenied)
    return "not allowed to talk to BlueZ (" + e.message +
           "); the D-Bus policy must let this user call org.bluez (group 'bluetooth')";
  return "BlueZ did not answer GetManagedObjects: " + e.code + ": " + e.message;
}

}  // namespace

ObjectMirror::ObjectMirror(boost::asio::io_context& io, Logger log, Listener& listener,
                           Timing timing)
    : io_(io), log_(std::move(log)), listener_(listener), timing_(timing), retry_timer_(io) {}

ObjectMirror::Status ObjectMirror::start(Bus& bus) {
  stop();
  bus_ = &bus;
  std::vector<std::string> rules = bluez::ObjectManager::match_rules();
  rules.push_back(bluez::ObjectManager::name_owner_rule());
  for (const auto& rule : rules) {
    auto match = bus.add_match(rule, [this](const BusSignal& s) { on_signal(s); });
    if (!match) {
      matches_.clear();
      bus_ = nullptr;
      status_ = Status::Unavailable;
      reason_ =
          "cannot watch BlueZ's signals: " + match.error().code + ": " + match.error().message;
      return status_;
    }
    matches_.push_back(std::move(*match));
  }
  load();
  return status_;
}

void ObjectMirror::stop() {
  loading_.cancel();
  retry_timer_.cancel();
  matches_.clear();
  objects_.clear();
  bus_ = nullptr;
  status_ = Status::Stopped;
  reason_.clear();
}

void ObjectMirror::load() {
  if (!bus_) return;
  retry_timer_.cancel();
  status_ = Status::Loading;
  loading_ = bluez::ObjectManager::get_managed_objects(
      *bus_, timing_.call_timeout,
      [this](Expected<bluez::ObjectManager::Objects> objects) { on_objects(std::move(objects)); });
}

void ObjectMirror::on_objects(Expected<bluez::ObjectManager::Objects> objects) {
  if (!objects) {
    const Error& e = objects.error();
    const bool not_running =
        e.code == bluez::errors::kServiceUnknown || e.code == bluez::errors::kNameHasNoOwner;
    objects_.clear();
    status_ = Status::Unavailable;
    reason_ = describe_unreachable(e);
    if (!not_running) {
      // Nothing on the bus will say when this is fixed (a policy change, a
      // hung bluetoothd): ask again later.
      auto delay = backoff_delay({timing_.retry_min, timing_.retry_max, 0.0}, retries_++, 0.0);
      retry_timer_.expires_after(delay);
      retry_timer_.async_wait(
          [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
            if (!ec && alive.lock() && status_ == Status::Unavailable) load();
          });
    }
    listener_.mirror_unavailable(reason_);
    return;
  }
  retries_ = 0;
  objects_ = std::move(*objects);
  status_ = Status::Ready;
  reason_.clear();
  listener_.mirror_ready();
}

void ObjectMirror::lost(const std::string& reason) {
  loading_.cancel();
  objects_.clear();
  status_ = Status::Unavailable;
  reason_ = reason;
  listener_.mirror_unavailable(reason_);
}

void ObjectMirror::on_signal(const BusSignal& signal) {
  using bluez::ObjectManager;
  if (auto owner = ObjectManager::bluez_owner_changed(signal)) {
    if (!owner->old_owner.empty() && status_ != Status::Unavailable)
      lost("BlueZ stopped (org.bluez left the system bus)");
    if (!owner->new_owner.empty()) {
      log_.info("BlueZ appeared on the bus ({}): reading its objects", owner->new_owner);
      retries_ = 0;
      load();
    }
    return;
  }
  // Until the snapshot arrives, it is newer than any signal.
  if (status_ != Status::Ready) return;

  if (auto added = ObjectManager::interfaces_added(signal)) {
    auto& object = objects_[added->path];
    std::vector<std::string> names;
    for (auto& [name, props] : added->interfaces) {
      names.push_back(name);
      auto& stored = object[name];
      for (auto& [key, value] : props) stored.insert_or_assign(key, std::move(value));
    }
    listener_.interfaces_added(added->path, names);
    return;
  }
  if (auto removed = ObjectManager::interfaces_removed(signal)) {
    auto it = objects_.find(removed->path);
    if (it == objects_.end()) return;
    for (const auto& name : removed->interfaces) it->second.erase(name);
    if (it->second.empty()) objects_.erase(it);
    listener_.interfaces_removed(removed->path, removed->interfaces);
    return;
  }
  if (auto changed = ObjectManager::properties_changed(signal)) {
    auto object = objects_.find(changed->path);
    if (object == objects_.end()) return;
    auto props = object->second.find(changed->interface);
    if (props == object->second.end()) return;
    for (auto& [key, value] : bluez::keep_used(changed->interface, changed->changed))
      props->second.insert_or_assign(key, value);
    for (const auto& key : changed->invalidated) {
      auto p = props->second.find(key);
      if (p != props->second.end()) props->second.erase(p);
    }
    listener_.properties_changed(changed->path, changed->interface, changed->changed);
  }
}

const bluez::Interfaces* ObjectMirror::find(const std::string& path) const {
  auto it = objects_.find(path);
  return it == objects_.end() ? nullptr : &it->second;
}

const bluez::Properties* ObjectMirror::find(const std::string& path,
                                            std::string_view interface) const {
  const bluez::Interfaces* object = find(path);
  if (!object) return nullptr;
  auto it = object->find(interface);
  return it == object->end() ? nullptr : &it->second;
}

std::vector<std::string> ObjectMirror::with_interface(std::string_view interface) const {
  std::vector<std::string> out;
  for (const auto& [path, interfaces] : objects_)
    if (interfaces.find(interface) != interfaces.end()) out.push_back(path);
  return out;
}

std::optional<std::string> ObjectMirror::find_device(const std::string& address,
                                                     const std::string& adapter) const {
  const std::string adapter_path = adapter.empty() ? "" : std::string(bluez::kRoot) + adapter;
  for (const auto& [path, interfaces] : objects_) {
    auto device = interfaces.find(bluez::Device1::kInterface);
    if (device == interfaces.end()) continue;
    bluez::Device1 d(&device->second);
    if (bluez::normalize_address(d.address()) != address) continue;
    if (!adapter_path.empty() && d.adapter() != adapter_path) continue;
    return path;
  }
  return std::nullopt;
}

std::optional<std::string> ObjectMirror::find_characteristic(const std::string& device_path,
                                                             const std::string& uuid) const {
  const std::string prefix = device_path + "/";
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    auto ch = it->second.find(bluez::GattCharacteristic1::kInterface);
    if (ch != it->second.end() && bluez::GattCharacteristic1(&ch->second).uuid() == uuid)
      return it->first;
  }
  return std::nullopt;
}

}  // namespace nursery::ble
