#pragma once
// A mirror of BlueZ's objects under /org/bluez, kept from its ObjectManager
// signals. The matches (InterfacesAdded/Removed, PropertiesChanged, and
// NameOwnerChanged for org.bluez) are added before GetManagedObjects, so no
// change falls between the snapshot and the signals; signals that arrive
// before the snapshot are dropped, since the snapshot, sent later by the
// same sender, already holds them. When org.bluez leaves the bus the mirror
// empties and says why; when it returns the mirror is rebuilt.
// Only the properties the library reads are kept (bluez::keep_used).
//
// Thread: the loop thread. Listener methods are called from Bus dispatch
// (never from inside a call into the mirror). Nothing here throws.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ble/bluez.hpp"
#include "ble/bus.hpp"
#include "daemon/log.hpp"

namespace nursery::ble {

class ObjectMirror {
 public:
  enum class Status {
    Stopped,      // no bus
    Loading,      // waiting for GetManagedObjects
    Ready,        // mirrored
    Unavailable,  // BlueZ is not there (or refuses us): see reason()
  };

  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void mirror_ready() = 0;
    virtual void mirror_unavailable(const std::string& reason) = 0;
    // After the mirror changed; look the object up in the mirror for its state.
    virtual void interfaces_added(const std::string& path,
                                  const std::vector<std::string>& interfaces) = 0;
    virtual void interfaces_removed(const std::string& path,
                                    const std::vector<std::string>& interfaces) = 0;
    // `changed` holds every property BlueZ sent (a characteristic's Value too).
    virtual void properties_changed(const std::string& path, const std::string& interface,
                                    const bluez::Properties& changed) = 0;
  };

  struct Timing {
    std::chrono::milliseconds call_timeout{10'000};
    // Retrying GetManagedObjects after an error other than "BlueZ is not
    // running" (which waits for NameOwnerChanged instead).
    std::chrono::milliseconds retry_min{1'000};
    std::chrono::milliseconds retry_max{30'000};
  };

  ObjectMirror(boost::asio::io_context& io, Logger log, Listener& listener, Timing timing);

  // Watches BlueZ on `bus` (which must outlive the mirror or a stop()).
  // Fails when the match rules cannot be added.
  Status start(Bus& bus);
  void stop();

  Status status() const { return status_; }
  // Why BlueZ cannot be used, for Unavailable (empty otherwise).
  const std::string& reason() const { return reason_; }

  const bluez::Interfaces* find(const std::string& path) const;
  const bluez::Properties* find(const std::string& path, std::string_view interface) const;
  // Paths of every object with `interface`, in path order.
  std::vector<std::string> with_interface(std::string_view interface) const;
  // The device with this (normalized) address, on `adapter` ("hci0"; empty:
  // any, the first in path order).
  std::optional<std::string> find_device(const std::string& address,
                                         const std::string& adapter) const;
  // The first characteristic with `uuid` (lower case) under the device.
  std::optional<std::string> find_characteristic(const std::string& device_path,
                                                 const std::string& uuid) const;
  std::size_t size() const { return objects_.size(); }

 private:
  void load();
  void on_objects(Expected<bluez::ObjectManager::Objects> objects);
  void on_signal(const BusSignal& signal);
  void lost(const std::string& reason);

  boost::asio::io_context& io_;
  Logger log_;
  Listener& listener_;
  Timing timing_;
  Bus* bus_ = nullptr;
  std::vector<Match> matches_;
  PendingCall loading_;
  boost::asio::steady_timer retry_timer_;
  int retries_ = 0;
  Status status_ = Status::Stopped;
  std::string reason_;
  bluez::ObjectManager::Objects objects_;
  // Timer handlers hold this weakly: one that completed just before the
  // mirror was destroyed must not touch it.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace nursery::ble
