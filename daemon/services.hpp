#pragma once
// The services a device driver may ask its host for, declared as small
// interfaces so that drivers never see Paho or sdbus-c++: the MQTT client's
// top layer (mqtt/) implements PubSub, the BlueZ client's top layer (ble/)
// implements Ble. daemon/main.cpp creates them and hands them to the hub,
// which passes them to plugins through DeviceHost. A test can fake either.
//
// Thread: every method is called on the loop thread, and every callback is
// invoked on the loop thread, never from inside the call that registered it.
// Nothing here throws: failures are reported through the callbacks.
// Lifetime: destroying a handle (Subscription, BleDevice) guarantees that its
// callbacks are never invoked again.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expected.hpp"

namespace nursery {

// --- MQTT -------------------------------------------------------------------

struct PubSubMessage {
  std::string topic;
  std::string payload;
  bool retained = false;  // delivered from the broker's store, not published just now
};

// Under pressure (a full outgoing queue) the oldest State messages are
// dropped first; a Command (something a device must do) never is.
enum class PublishKind { State, Command };

struct PublishOptions {
  int qos = 1;
  bool retain = false;
  PublishKind kind = PublishKind::State;
};

class PubSub {
 public:
  virtual ~PubSub() = default;

  // Ends a subscription or a connection watch when destroyed.
  class Handle {
   public:
    virtual ~Handle() = default;
  };

  // Queued while the broker is away and sent on reconnect (bounded: see
  // PublishKind).
  virtual void publish(std::string topic, std::string payload, PublishOptions options) = 0;
  // `filter` may use MQTT wildcards (+, #). The subscription is renewed on
  // every reconnect. Messages larger than the client's max_payload are not
  // delivered here (the client reports them itself).
  virtual std::unique_ptr<Handle> subscribe(std::string filter,
                                            std::function<void(const PubSubMessage&)> handler) = 0;
  virtual bool connected() const = 0;
  // Called with true after every (re)connect, once subscriptions are renewed,
  // and with false when the connection is lost.
  virtual std::unique_ptr<Handle> watch_connection(std::function<void(bool connected)> handler) = 0;
};

// --- Bluetooth LE -------------------------------------------------------------

using Bytes = std::vector<std::uint8_t>;

enum class BleLinkState {
  Unavailable,   // no BlueZ, no adapter, or no permission: see reason
  Searching,     // the device is not (yet) known to BlueZ: scanning for it
  Connecting,    // connecting, or waiting for its services to resolve
  Connected,     // connected with services resolved: GATT operations work
  Disconnected,  // lost; the handle reconnects by itself with backoff
};

struct BleLinkEvent {
  BleLinkState state = BleLinkState::Unavailable;
  std::string reason;  // for a person: "org.bluez.Error.Failed: le-connection-abort-by-local"
};

// One BLE peripheral, found, connected and reconnected by the BLE manager
// on its own. GATT operations are queued and run one at a time; an
// operation issued while not connected fails at once with code
// "ble_not_connected".
class BleDevice {
 public:
  virtual ~BleDevice() = default;  // disconnects unless the manager shares the link

  virtual void on_link(std::function<void(const BleLinkEvent&)> handler) = 0;
  virtual BleLinkState link_state() const = 0;

  virtual void read(std::string characteristic_uuid, std::function<void(Expected<Bytes>)> done) = 0;
  // with_response: a Write Request (acknowledged by the peripheral) rather
  // than a Write Command.
  virtual void write(std::string characteristic_uuid, Bytes value, bool with_response,
                     std::function<void(Status)> done) = 0;
  // Notifications (or indications) of a characteristic, started on every
  // connect until the handle is destroyed.
  virtual void notify(std::string characteristic_uuid,
                      std::function<void(const Bytes&)> handler) = 0;

  // Battery1.Percentage where BlueZ exposes it, and the last known RSSI.
  virtual std::optional<int> battery_percent() const = 0;
  virtual std::optional<int> rssi() const = 0;
  virtual void on_battery(std::function<void(int percent)> handler) = 0;
};

struct BleScanResult {
  std::string address;  // "F3:53:11:AA:BB:CC"
  std::string name;     // empty when the device does not advertise one
  std::optional<int> rssi;
  std::vector<std::string> service_uuids;
  std::vector<std::uint16_t> manufacturer_ids;
};

class Ble {
 public:
  virtual ~Ble() = default;
  // `adapter` is "hci0" and the like; empty means any adapter.
  virtual std::unique_ptr<BleDevice> device(std::string address, std::string adapter) = 0;
  // Scans for `duration` (no connecting meanwhile) and reports what it saw.
  virtual void scan(std::chrono::seconds duration,
                    std::function<void(Expected<std::vector<BleScanResult>>)> done) = 0;
  // False while there is no BlueZ or no adapter; `reason` says which.
  virtual bool available() const = 0;
  virtual std::string unavailable_reason() const = 0;
};

}  // namespace nursery
