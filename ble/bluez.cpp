#include "ble/bluez.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace nursery::ble::bluez {
namespace {

constexpr const char* kObjectManager = "org.freedesktop.DBus.ObjectManager";
constexpr const char* kPropertiesInterface = "org.freedesktop.DBus.Properties";

const Value* find(const Properties* p, std::string_view name) {
  if (!p) return nullptr;
  auto it = p->find(name);
  return it == p->end() ? nullptr : &it->second;
}

bool get_bool(const Properties* p, std::string_view name) {
  const Value* v = find(p, name);
  return v && v->as_bool().value_or(false);
}

std::string get_string(const Properties* p, std::string_view name) {
  const Value* v = find(p, name);
  const std::string* s = v ? v->as_string() : nullptr;
  return s ? *s : std::string();
}

std::optional<std::int64_t> get_int(const Properties* p, std::string_view name) {
  const Value* v = find(p, name);
  return v ? v->as_int() : std::nullopt;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status to_status(Reply reply) {
  if (!reply) return reply.error();
  return Ok{};
}

Done or_nothing(Done done) {
  return done ? std::move(done) : [](Status) {};
}

PendingCall simple_call(Bus& bus, const std::string& path, const char* interface,
                        const char* method, std::vector<Value> args,
                        std::chrono::milliseconds timeout, Done done) {
  return bus.call(kService, path, interface, method, std::move(args), timeout,
                  [done = or_nothing(std::move(done))](Reply r) { done(to_status(std::move(r))); });
}

// a{sa{sv}} -> Interfaces (filtered to what the library reads).
std::optional<Interfaces> decode_interfaces(const Value& v) {
  const Dict* d = v.as_dict();
  if (!d) return std::nullopt;
  Interfaces out;
  for (const auto& entry : d->entries) {
    const std::string* name = entry.key.as_string();
    const Dict* props = entry.value.as_dict();
    if (!name || !props) return std::nullopt;
    Properties p;
    for (const auto& pe : props->entries) {
      const std::string* pname = pe.key.as_string();
      if (!pname) return std::nullopt;
      p.emplace(*pname, pe.value);
    }
    out.emplace(*name, keep_used(*name, std::move(p)));
  }
  return out;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

bool errors::is_timeout(const Error& e) { return e.code == kNoReply || e.code == kTimeout; }

Properties keep_used(std::string_view interface, Properties all) {
  // The properties read, with the D-Bus type BlueZ gives them. A value of
  // another type is dropped, so a malformed signal cannot change a state.
  using Types = std::map<std::string_view, std::string_view>;
  static const std::map<std::string_view, Types> kUsed = {
      {Adapter1::kInterface, {{"Address", "s"}, {"Powered", "b"}, {"Discovering", "b"}}},
      {Device1::kInterface,
       {{"Address", "s"},
        {"Name", "s"},
        {"Adapter", "o"},
        {"Connected", "b"},
        {"ServicesResolved", "b"},
        {"RSSI", "n"},
        {"UUIDs", "as"},
        {"ManufacturerData", "a{qv}"}}},
      {GattService1::kInterface, {{"UUID", "s"}, {"Device", "o"}}},
      // Value is not kept: a notification is handed on, not stored.
      {GattCharacteristic1::kInterface,
       {{"UUID", "s"}, {"Service", "o"}, {"Notifying", "b"}, {"Flags", "as"}}},
      {Battery1::kInterface, {{"Percentage", "y"}}},
  };
  auto used = kUsed.find(interface);
  if (used == kUsed.end()) return {};
  for (auto it = all.begin(); it != all.end();) {
    auto type = used->second.find(it->first);
    if (type == used->second.end() || it->second.signature() != type->second)
      it = all.erase(it);
    else
      ++it;
  }
  // ManufacturerData: only the company ids are used; drop the payloads.
  if (interface == Device1::kInterface) {
    auto md = all.find("ManufacturerData");
    if (md != all.end()) {
      if (const Dict* d = md->second.as_dict()) {
        Dict ids{d->key, "b", {}};
        for (const auto& e : d->entries) ids.entries.push_back({e.key, Value::boolean(true)});
        md->second = Value(Value::Data(std::move(ids)));
      }
    }
  }
  return all;
}

std::optional<std::string> normalize_address(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i % 3 == 2) {
      if (out[i] != ':') return std::nullopt;
    } else {
      if (!is_hex(out[i])) return std::nullopt;
      out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

std::optional<std::string> normalize_uuid(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    text.remove_prefix(2);
  if (text.size() == 4 || text.size() == 8) {
    if (!std::all_of(text.begin(), text.end(), is_hex)) return std::nullopt;
    std::string full = std::string(8 - text.size(), '0') + std::string(text);
    return lower(full + "-0000-1000-8000-00805f9b34fb");
  }
  if (text.size() != 36) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !is_hex(text[i])) return std::nullopt;
  }
  return lower(std::string(text));
}

bool valid_adapter_name(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// --- Adapter1 ----------------------------------------------------------------

std::string Adapter1::address() const { return get_string(p_, "Address"); }
bool Adapter1::powered() const { return get_bool(p_, "Powered"); }
bool Adapter1::discovering() const { return get_bool(p_, "Discovering"); }

PendingCall Adapter1::set_discovery_filter(Bus& bus, const std::string& path,
                                           const std::optional<Filter>& filter,
                                           std::chrono::milliseconds timeout, Done done) {
  std::vector<std::pair<std::string, Value>> entries;
  if (filter) {
    entries.emplace_back("Transport", Value::string("le"));
    entries.emplace_back("DuplicateData", Value::boolean(false));
    if (!filter->uuids.empty()) entries.emplace_back("UUIDs", Value::strings(filter->uuids));
  }
  return simple_call(bus, path, kInterface, "SetDiscoveryFilter",
                     {Value::options(std::move(entries))}, timeout, std::move(done));
}

PendingCall Adapter1::start_discovery(Bus& bus, const std::string& path,
                                      std::chrono::milliseconds timeout, Done done) {
  return simple_call(bus, path, kInterface, "StartDiscovery", {}, timeout, std::move(done));
}

PendingCall Adapter1::stop_discovery(Bus& bus, const std::string& path,
                                     std::chrono::milliseconds timeout, Done done) {
  return simple_call(bus, path, kInterface, "StopDiscovery", {}, timeout, std::move(done));
}

// --- Device1 -------------------------------------------------------------------

std::string Device1::address() const { return get_string(p_, "Address"); }
std::string Device1::name() const { return get_string(p_, "Name"); }
std::string Device1::adapter() const { return get_string(p_, "Adapter"); }
bool Device1::connected() const { return get_bool(p_, "Connected"); }
bool Device1::services_resolved() const { return get_bool(p_, "ServicesResolved"); }

std::optional<int> Device1::rssi() const {
  auto v = get_int(p_, "RSSI");
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::vector<std::string> Device1::uuids() const {
  const Value* v = find(p_, "UUIDs");
  std::vector<std::string> out = v ? v->as_strings() : std::vector<std::string>{};
  for (auto& u : out) u = lower(u);
  return out;
}

std::vector<std::uint16_t> Device1::manufacturer_ids() const {
  std::vector<std::uint16_t> out;
  const Value* v = find(p_, "ManufacturerData");
  if (const Dict* d = v ? v->as_dict() : nullptr) {
    for (const auto& e : d->entries) {
      auto id = e.key.as_int();
      if (id && *id >= 0 && *id <= 0xffff) out.push_back(static_cast<std::uint16_t>(*id));
    }
  }
  return out;
}

bool Device1::is_advertisement(const Properties& changed) {
  static constexpr std::array<std::string_view, 7> kAdvertised = {
      "RSSI", "ManufacturerData", "ServiceData", "Name", "UUIDs", "TxPower", "AdvertisingData"};
  return std::any_of(kAdvertised.begin(), kAdvertised.end(),
                     [&](std::string_view k) { return changed.find(k) != changed.end(); });
}

PendingCall Device1::connect(Bus& bus, const std::string& path, std::chrono::milliseconds timeout,
                             Done done) {
  return simple_call(bus, path, kInterface, "Connect", {}, timeout, std::move(done));
}

PendingCall Device1::disconnect(Bus& bus, const std::string& path,
                                std::chrono::milliseconds timeout, Done done) {
  return simple_call(bus, path, kInterface, "Disconnect", {}, timeout, std::move(done));
}

// --- GATT ----------------------------------------------------------------------

std::string GattService1::uuid() const { return lower(get_string(p_, "UUID")); }
std::string GattService1::device() const { return get_string(p_, "Device"); }

std::string GattCharacteristic1::uuid() const { return lower(get_string(p_, "UUID")); }
std::string GattCharacteristic1::service() const { return get_string(p_, "Service"); }
bool GattCharacteristic1::notifying() const { return get_bool(p_, "Notifying"); }

std::vector<std::string> GattCharacteristic1::flags() const {
  const Value* v = find(p_, "Flags");
  return v ? v->as_strings() : std::vector<std::string>{};
}

const Bytes* GattCharacteristic1::changed_value(const Properties& changed) {
  auto it = changed.find("Value");
  return it == changed.end() ? nullptr : it->second.as_bytes();
}

PendingCall GattCharacteristic1::read_value(Bus& bus, const std::string& path,
                                            std::chrono::milliseconds timeout,
                                            std::function<void(Expected<Bytes>)> done) {
  return bus.call(kService, path, kInterface, "ReadValue", {Value::options({})}, timeout,
                  [done = std::move(done)](Reply r) {
                    if (!r) return done(r.error());
                    const Bytes* bytes = r->empty() ? nullptr : r->front().as_bytes();
                    if (!bytes)
                      return done(Error{"org.nursery.Error.BadReply",
                                        "ReadValue answered without a byte array", 502});
                    done(*bytes);
                  });
}

PendingCall GattCharacteristic1::write_value(Bus& bus, const std::string& path, const Bytes& value,
                                             bool with_response, std::chrono::milliseconds timeout,
                                             Done done) {
  auto options = Value::options({{"type", Value::string(with_response ? "request" : "command")}});
  return simple_call(bus, path, kInterface, "WriteValue", {Value::bytes(value), std::move(options)},
                     timeout, std::move(done));
}

PendingCall GattCharacteristic1::start_notify(Bus& bus, const std::string& path,
                                              std::chrono::milliseconds timeout, Done done) {
  return simple_call(bus, path, kInterface, "StartNotify", {}, timeout, std::move(done));
}

PendingCall GattCharacteristic1::stop_notify(Bus& bus, const std::string& path,
                                             std::chrono::milliseconds timeout, Done done) {
  return simple_call(bus, path, kInterface, "StopNotify", {}, timeout, std::move(done));
}

std::optional<int> Battery1::percentage() const {
  auto v = get_int(p_, "Percentage");
  if (!v || *v < 0 || *v > 100) return std::nullopt;
  return static_cast<int>(*v);
}

// --- ObjectManager and signals -------------------------------------------------

PendingCall ObjectManager::get_managed_objects(Bus& bus, std::chrono::milliseconds timeout,
                                               std::function<void(Expected<Objects>)> done) {
  return bus.call(kService, "/", kObjectManager, "GetManagedObjects", {}, timeout,
                  [done = std::move(done)](Reply r) {
                    if (!r) return done(r.error());
                    const Dict* objects = r->empty() ? nullptr : r->front().as_dict();
                    if (!objects)
                      return done(Error{"org.nursery.Error.BadReply",
                                        "GetManagedObjects answered something else", 502});
                    Objects out;
                    for (const auto& entry : objects->entries) {
                      const std::string* path = entry.key.as_string();
                      if (!path || path->rfind(kRoot, 0) != 0) continue;
                      auto interfaces = decode_interfaces(entry.value);
                      if (interfaces) out.emplace(*path, std::move(*interfaces));
                    }
                    done(std::move(out));
                  });
}

const std::vector<std::string>& ObjectManager::match_rules() {
  static const std::vector<std::string> kRules = {
      "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager',"
      "member='InterfacesAdded',arg0path='/org/bluez/'",
      "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager',"
      "member='InterfacesRemoved',arg0path='/org/bluez/'",
      "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
      "member='PropertiesChanged',path_namespace='/org/bluez'",
  };
  return kRules;
}

const std::string& ObjectManager::name_owner_rule() {
  static const std::string kRule =
      "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
      "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'";
  return kRule;
}

std::optional<ObjectManager::Added> ObjectManager::interfaces_added(const BusSignal& s) {
  if (s.interface != kObjectManager || s.member != "InterfacesAdded" || s.args.size() != 2)
    return std::nullopt;
  const std::string* path = s.args[0].as_string();
  auto interfaces = decode_interfaces(s.args[1]);
  if (!path || !interfaces || path->rfind(kRoot, 0) != 0) return std::nullopt;
  return Added{*path, std::move(*interfaces)};
}

std::optional<ObjectManager::Removed> ObjectManager::interfaces_removed(const BusSignal& s) {
  if (s.interface != kObjectManager || s.member != "InterfacesRemoved" || s.args.size() != 2)
    return std::nullopt;
  const std::string* path = s.args[0].as_string();
  if (!path || path->rfind(kRoot, 0) != 0 || !s.args[1].as_array()) return std::nullopt;
  return Removed{*path, s.args[1].as_strings()};
}

std::optional<ObjectManager::Changed> ObjectManager::properties_changed(const BusSignal& s) {
  if (s.interface != kPropertiesInterface || s.member != "PropertiesChanged" ||
      s.args.size() != 3 || s.path.rfind(kRoot, 0) != 0)
    return std::nullopt;
  const std::string* interface = s.args[0].as_string();
  const Dict* changed = s.args[1].as_dict();
  if (!interface || !changed) return std::nullopt;
  Changed out{s.path, *interface, {}, s.args[2].as_strings()};
  for (const auto& e : changed->entries) {
    const std::string* name = e.key.as_string();
    if (!name) return std::nullopt;
    out.changed.emplace(*name, e.value);
  }
  return out;
}

std::optional<ObjectManager::OwnerChanged> ObjectManager::bluez_owner_changed(const BusSignal& s) {
  if (s.member != "NameOwnerChanged" || s.args.size() != 3) return std::nullopt;
  const std::string* name = s.args[0].as_string();
  const std::string* old_owner = s.args[1].as_string();
  const std::string* new_owner = s.args[2].as_string();
  if (!name || *name != kService || !old_owner || !new_owner) return std::nullopt;
  return OwnerChanged{*old_owner, *new_owner};
}

}  // namespace nursery::ble::bluez
