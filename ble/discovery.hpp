#pragma once
// Who wants the adapters scanning, and the one discovery session this
// client holds on each powered adapter. A scan or a search for an unknown
// device makes a request (with the service UUIDs it cares about; none means
// every device); discovery runs while any request is held, with the merged
// filter (LE only; UUIDs only if every request names some), and stops when
// the last is released (StopDiscovery, then the filter is cleared).
//
// Connecting and scanning exclude each other (controllers abort LE
// connections made while scanning: le-connection-abort-by-local): a link
// does not connect while busy(), and discovery does not start while a
// connect is in flight (connect_started/connect_finished).
//
// Thread: the loop thread. The callbacks are posted to the loop, never run
// from inside a call into this class. Nothing here throws.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ble/bluez.hpp"
#include "ble/bus.hpp"
#include "daemon/log.hpp"

namespace nursery::ble {

class ObjectMirror;

class Discovery {
 public:
  struct Callbacks {
    std::function<void()> started;             // discovery began on some adapter
    std::function<void()> idle;                // nothing runs or is wanted: connects may go
    std::function<void(const Error&)> failed;  // an adapter refused to scan
  };
  using Token = std::uint64_t;

  Discovery(boost::asio::io_context& io, Logger log, std::chrono::milliseconds call_timeout,
            Callbacks callbacks);

  // The bus and mirror to use; nullptrs while BlueZ is away (every session
  // is then forgotten, since BlueZ ended them).
  void attach(Bus* bus, const ObjectMirror* mirror);

  // `uuids` lower case; empty: any device.
  Token request(std::vector<std::string> uuids);
  void release(Token token);

  // Running, starting, stopping, or wanted.
  bool busy() const;
  // Running on at least one adapter.
  bool active() const;

  void connect_started();
  void connect_finished();
  // An adapter appeared, went, or was powered on or off.
  void adapters_changed();

 private:
  struct AdapterState {
    bool active = false;
    bool calling = false;
    bool failed = false;
    bluez::Adapter1::Filter applied;
    PendingCall call;
  };

  bluez::Adapter1::Filter merged() const;
  void reconcile();
  void start(const std::string& path, const bluez::Adapter1::Filter& filter);
  void change_filter(const std::string& path, const bluez::Adapter1::Filter& filter);
  void stop(const std::string& path);
  void post(std::function<void()> fn);

  boost::asio::io_context& io_;
  Logger log_;
  std::chrono::milliseconds call_timeout_;
  Callbacks callbacks_;
  Bus* bus_ = nullptr;
  const ObjectMirror* mirror_ = nullptr;
  std::map<std::string, AdapterState> adapters_;
  std::map<Token, std::vector<std::string>> requests_;
  Token next_token_ = 1;
  int connects_ = 0;
  bool was_busy_ = false;
  bool was_active_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace nursery::ble
