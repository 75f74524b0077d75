#pragma once
// One class per BlueZ interface the library uses (BlueZ 5.66, doc/*-api.txt):
// Adapter1, Device1, GattService1, GattCharacteristic1, Battery1, plus the
// ObjectManager and Properties signals the mirror is built from. Each class
// reads its properties from a mirrored property set (a view: it owns
// nothing) and calls its methods over the Bus. Names of interfaces,
// properties and errors live here and nowhere else.
// Thread: the loop thread. Nothing here throws.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ble/bus.hpp"
#include "ble/dbus_value.hpp"
#include "daemon/expected.hpp"

namespace nursery::ble::bluez {

inline constexpr const char* kService = "org.bluez";
inline constexpr const char* kRoot = "/org/bluez/";

// D-Bus error names (src/error.c of BlueZ 5.66, and the bus's own).
namespace errors {
inline constexpr std::string_view kFailed = "org.bluez.Error.Failed";
inline constexpr std::string_view kInProgress = "org.bluez.Error.InProgress";
inline constexpr std::string_view kAlreadyConnected = "org.bluez.Error.AlreadyConnected";
inline constexpr std::string_view kNotConnected = "org.bluez.Error.NotConnected";
inline constexpr std::string_view kNotPermitted = "org.bluez.Error.NotPermitted";
inline constexpr std::string_view kNotAuthorized = "org.bluez.Error.NotAuthorized";
inline constexpr std::string_view kNotSupported = "org.bluez.Error.NotSupported";
inline constexpr std::string_view kInvalidArguments = "org.bluez.Error.InvalidArguments";
inline constexpr std::string_view kNoReply = "org.freedesktop.DBus.Error.NoReply";
inline constexpr std::string_view kTimeout = "org.freedesktop.DBus.Error.Timeout";
inline constexpr std::string_view kServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown";
inline constexpr std::string_view kNameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner";
inline constexpr std::string_view kUnknownObject = "org.freedesktop.DBus.Error.UnknownObject";
inline constexpr std::string_view kUnknownMethod = "org.freedesktop.DBus.Error.UnknownMethod";
inline constexpr std::string_view kAccessDenied = "org.freedesktop.DBus.Error.AccessDenied";
// The message of org.bluez.Error.Failed when the local controller aborted
// an LE connection (ECONNABORTED, src/error.h); usually RF trouble, and a
// retry after the disconnection usually works.
inline constexpr std::string_view kAbortByLocal = "le-connection-abort-by-local";

// A call that got no answer in time (or whose peer left without answering).
bool is_timeout(const Error& e);
}  // namespace errors

using Properties = std::map<std::string, Value, std::less<>>;
using Interfaces = std::map<std::string, Properties, std::less<>>;

// Keeps only the properties this library reads (the mirror stays small even
// with many advertisers nearby); interfaces it does not use keep their name.
Properties keep_used(std::string_view interface, Properties all);

// "AA:BB:CC:DD:EE:FF" in upper case, or nullopt if `text` is not an address.
std::optional<std::string> normalize_address(std::string_view text);
// A 128-bit UUID in BlueZ's lower-case form; 16- and 32-bit short forms
// ("fff1", "0x2a19") are expanded with the Bluetooth base UUID.
std::optional<std::string> normalize_uuid(std::string_view text);
// An adapter name such as "hci0" (an object path element).
bool valid_adapter_name(std::string_view text);

using Done = std::function<void(Status)>;

class Adapter1 {
 public:
  static constexpr const char* kInterface = "org.bluez.Adapter1";
  explicit Adapter1(const Properties* p) : p_(p) {}
  std::string address() const;
  bool powered() const;
  bool discovering() const;

  // SetDiscoveryFilter: LE only, these service UUIDs (any of them; empty:
  // every device), no duplicate reports.
  struct Filter {
    std::vector<std::string> uuids;
    friend bool operator==(const Filter&, const Filter&) = default;
  };
  // nullopt clears our filter.
  static PendingCall set_discovery_filter(Bus& bus, const std::string& path,
                                          const std::optional<Filter>& filter,
                                          std::chrono::milliseconds timeout, Done done);
  static PendingCall start_discovery(Bus& bus, const std::string& path,
                                     std::chrono::milliseconds timeout, Done done);
  static PendingCall stop_discovery(Bus& bus, const std::string& path,
                                    std::chrono::milliseconds timeout, Done done);

 private:
  const Properties* p_;
};

class Device1 {
 public:
  static constexpr const char* kInterface = "org.bluez.Device1";
  explicit Device1(const Properties* p) : p_(p) {}
  bool exists() const { return p_ != nullptr; }
  std::string address() const;
  std::string name() const;     // empty when the device advertises none
  std::string adapter() const;  // the adapter's object path
  bool connected() const;
  bool services_resolved() const;
  std::optional<int> rssi() const;
  std::vector<std::string> uuids() const;  // lower case
  std::vector<std::uint16_t> manufacturer_ids() const;
  // A property change that means the device was just seen advertising.
  static bool is_advertisement(const Properties& changed);

  static PendingCall connect(Bus& bus, const std::string& path, std::chrono::milliseconds timeout,
                             Done done);
  static PendingCall disconnect(Bus& bus, const std::string& path,
                                std::chrono::milliseconds timeout, Done done);

 private:
  const Properties* p_;
};

class GattService1 {
 public:
  static constexpr const char* kInterface = "org.bluez.GattService1";
  explicit GattService1(const Properties* p) : p_(p) {}
  std::string uuid() const;
  std::string device() const;

 private:
  const Properties* p_;
};

class GattCharacteristic1 {
 public:
  static constexpr const char* kInterface = "org.bluez.GattCharacteristic1";
  explicit GattCharacteristic1(const Properties* p) : p_(p) {}
  std::string uuid() const;  // lower case
  std::string service() const;
  bool notifying() const;
  std::vector<std::string> flags() const;
  // The new Value in a PropertiesChanged: a notification (or a read's echo).
  static const Bytes* changed_value(const Properties& changed);

  static PendingCall read_value(Bus& bus, const std::string& path,
                                std::chrono::milliseconds timeout,
                                std::function<void(Expected<Bytes>)> done);
  // with_response: a Write Request ("request"), else a Write Command ("command").
  static PendingCall write_value(Bus& bus, const std::string& path, const Bytes& value,
                                 bool with_response, std::chrono::milliseconds timeout, Done done);
  static PendingCall start_notify(Bus& bus, const std::string& path,
                                  std::chrono::milliseconds timeout, Done done);
  static PendingCall stop_notify(Bus& bus, const std::string& path,
                                 std::chrono::milliseconds timeout, Done done);

 private:
  const Properties* p_;
};

class Battery1 {
 public:
  static constexpr const char* kInterface = "org.bluez.Battery1";
  explicit Battery1(const Properties* p) : p_(p) {}
  std::optional<int> percentage() const;

 private:
  const Properties* p_;
};

// org.freedesktop.DBus.ObjectManager on BlueZ's root, and the signals.
class ObjectManager {
 public:
  using Objects = std::map<std::string, Interfaces, std::less<>>;
  static PendingCall get_managed_objects(Bus& bus, std::chrono::milliseconds timeout,
                                         std::function<void(Expected<Objects>)> done);

  // Match rules, to be added before GetManagedObjects (so nothing is missed).
  static const std::vector<std::string>& match_rules();
  static const std::string& name_owner_rule();

  struct Added {
    std::string path;
    Interfaces interfaces;
  };
  struct Removed {
    std::string path;
    std::vector<std::string> interfaces;
  };
  struct Changed {
    std::string path;
    std::string interface;
    Properties changed;
    std::vector<std::string> invalidated;
  };
  struct OwnerChanged {
    std::string old_owner;
    std::string new_owner;
  };
  // Each returns nullopt for a signal that is not what it decodes, or is
  // malformed (which is then ignored).
  static std::optional<Added> interfaces_added(const BusSignal& s);
  static std::optional<Removed> interfaces_removed(const BusSignal& s);
  static std::optional<Changed> properties_changed(const BusSignal& s);
  static std::optional<OwnerChanged> bluez_owner_changed(const BusSignal& s);
};

}  // namespace nursery::ble::bluez
