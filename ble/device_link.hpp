#pragma once
// The connection state machine of one BLE peripheral, and its GATT queue.
//
//   BlueZ loading, absent, or no (powered) adapter -> Unavailable, with why
//   not in the mirror -> Searching: a discovery request for search_window,
//       then a backoff, then again; found -> connect
//   already Connected (a crash of ours left it so) -> adopted: no Connect
//   a scan runs -> wait for it to end (connects and scans exclude each other)
//   Connect (connect_timeout)
//       le-connection-abort-by-local -> wait until Connected=false is seen
//           (abort_wait), then Connect again (abort_retries in a row)
//       AlreadyConnected, InProgress -> wait for the services
//       the device was removed -> Searching
//       any other failure -> Disconnect (ends BlueZ's attempt), backoff
//   wait for ServicesResolved, watching Connected=false and removal
//       (resolve_timeout)
//   ready: StartNotify for every subscribed characteristic, then the queue
//       runs, one GATT operation at a time (InProgress is retried)
//       Connected=false -> backoff from backoff_min, reconnect
//       removed -> Searching
//       no answer to a GATT operation within gatt_timeout -> Disconnect,
//           reconnect
//   BlueZ leaves -> Unavailable; it returns -> start over, adopting a
//   connection that survived.
//
// A link is shared by every handle on the same device; it lives as long as
// one of them, and disconnects when the last goes.
//
// Thread: the loop thread. Everything handed to a subscriber is posted to
// the loop, and dropped if the subscriber is gone by then, so no callback
// runs inside a call into the link or after its handle was destroyed.
// Nothing here throws.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ble/bus.hpp"
#include "ble/dbus_value.hpp"
#include "ble/discovery.hpp"
#include "ble/object_mirror.hpp"
#include "ble/options.hpp"
#include "daemon/expected.hpp"
#include "daemon/log.hpp"

namespace nursery::ble {

enum class LinkState { Unavailable, Searching, Connecting, Connected, Disconnected };

struct LinkEvent {
  LinkState state = LinkState::Unavailable;
  std::string reason;
};

// What a link needs from the manager that owns the bus and the mirror.
class LinkContext {
 public:
  struct BluezState {
    enum class Kind { Loading, Unavailable, Ready } kind = Kind::Loading;
    std::string reason;
  };
  virtual ~LinkContext() = default;
  virtual boost::asio::io_context& io() = 0;
  virtual Bus* bus() = 0;  // nullptr while there is no bus
  virtual const ObjectMirror& mirror() const = 0;
  virtual Discovery& discovery() = 0;
  // Whether devices on `adapter` (empty: any) can be used now, and if not, why.
  virtual BluezState bluez_state(const std::string& adapter) const = 0;
  virtual double random() = 0;
};

// The callbacks of one handle. The link holds subscribers weakly; the
// handle sets `closed` when it goes, so nothing is delivered afterwards.
struct LinkSubscriber {
  bool closed = false;
  std::vector<std::function<void(const LinkEvent&)>> on_link;
  std::vector<std::pair<std::string, std::function<void(const Bytes&)>>> on_notify;
  std::vector<std::function<void(int)>> on_battery;
};

class DeviceLink : public std::enable_shared_from_this<DeviceLink> {
 public:
  // `address` normalized ("AA:BB:…"); `adapter` "hci0" or empty (any).
  DeviceLink(LinkContext& context, const Options& options, Logger log, std::string address,
             std::string adapter);
  ~DeviceLink();
  DeviceLink(const DeviceLink&) = delete;
  DeviceLink& operator=(const DeviceLink&) = delete;

  const std::string& address() const { return address_; }
  const std::string& adapter() const { return adapter_; }

  void start();
  // The manager goes away first: stop everything and report Unavailable.
  void shutdown();

  // From the manager.
  void bluez_changed();  // the mirror became ready or unavailable, adapters changed
  void interfaces_added(const std::string& path, const std::vector<std::string>& interfaces);
  void interfaces_removed(const std::string& path, const std::vector<std::string>& interfaces);
  void properties_changed(const std::string& path, const std::string& interface,
                          const bluez::Properties& changed);
  void discovery_idle();

  // From handles.
  void attach(const std::shared_ptr<LinkSubscriber>& subscriber);
  void detach(const LinkSubscriber* subscriber);
  // The subscriber has added a notification handler for `uuid` (normalized).
  void notify_added(const std::string& uuid);
  void read(std::weak_ptr<LinkSubscriber> owner, const std::string& uuid,
            std::function<void(Expected<Bytes>)> done);
  void write(std::weak_ptr<LinkSubscriber> owner, const std::string& uuid, Bytes value,
             bool with_response, std::function<void(Status)> done);

  LinkEvent event() const { return {state_, reason_}; }
  std::optional<int> battery() const;
  std::optional<int> rssi() const { return rssi_; }

 private:
  enum class Phase {
    Closed,
    Unavailable,  // includes "BlueZ loading"
    Searching,
    WaitingForScan,
    Connecting,
    AbortWait,
    Resolving,
    Ready,
    Backoff,
  };
  enum class OpKind { Read, Write, StartNotify, StopNotify };
  struct Op {
    OpKind kind;
    std::string uuid;
    Bytes value;
    bool with_response = true;
    bool internal = false;  // ours (notifications), not a handle's
    std::weak_ptr<LinkSubscriber> owner;
    std::function<void(Expected<Bytes>)> done;
    int retries = 0;
  };

  void evaluate();
  void start_search();
  void stop_search();
  void start_connect();
  void on_connect_reply(Status result);
  void end_connect();
  void enter_resolving();
  void become_ready(bool adopted);
  void leave_ready(const std::string& reason);
  void link_lost(const std::string& reason);
  void gatt_timeout(const std::string& what);
  void fail_and_backoff(LinkState shown, const std::string& reason);
  void disconnect_quietly();
  void set_public(LinkState state, std::string reason);
  void arm(std::chrono::milliseconds after, void (DeviceLink::*then)());
  void cancel_timer();
  void on_device_state(const bluez::Properties& changed);
  void on_abort_wait_expired();
  void on_resolve_expired();
  void on_search_expired();

  void enqueue(Op op);
  void run_next();
  void on_op_reply(Expected<Bytes> result);
  void finish_op(Expected<Bytes> result);
  void deliver_notification(const std::string& path, const Bytes& value);
  void deliver_battery(int percent);

  template <typename F>
  void post_to_subscribers(F fn);

  boost::asio::io_context& io_;
  LinkContext* context_;  // nullptr once the manager has gone
  Options options_;
  Logger log_;
  std::string address_;
  std::string adapter_;
  std::string device_path_;
  Phase phase_ = Phase::Unavailable;
  LinkState state_ = LinkState::Connecting;
  std::string reason_ = "waiting for BlueZ";
  std::vector<std::weak_ptr<LinkSubscriber>> subscribers_;

  boost::asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  PendingCall connect_call_;
  bool connect_in_flight_ = false;
  std::optional<Discovery::Token> search_;
  int attempts_ = 0;
  int aborts_ = 0;
  // Resolving again after having been ready: BlueZ reports a disconnection
  // as ServicesResolved=false, then Connected=false.
  bool was_ready_ = false;
  std::optional<int> rssi_;

  std::deque<Op> queue_;
  bool op_running_ = false;
  PendingCall op_call_;
  boost::asio::steady_timer retry_timer_;
  std::uint64_t retry_generation_ = 0;
  std::set<std::string> wanted_notifications_;
};

}  // namespace nursery::ble
