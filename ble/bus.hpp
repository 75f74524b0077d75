#pragma once
// The thin adapter over sdbus-c++ (1.2): one connection to a D-Bus bus,
// driven by the Asio loop, with asynchronous method calls and signal
// matches, in terms of ble::Value. It is the only part of the library that
// knows sdbus-c++ (ble/sdbus_bus.cpp); moving to sdbus-c++ 2.x changes that
// file alone.
//
// The loop drives sd-bus: after every wake-up it drains
// processPendingRequest(), then waits for what getEventLoopPollData() asks
// (the fd with a posix::stream_descriptor that is released, never closed:
// sd-bus owns the fd; the absolute timeout with a steady_timer). It re-arms
// after every wake-up and after every call issued. No thread is started.
//
// Thread: the loop thread only. Replies and signals are delivered from the
// loop, never from inside the call that asked for them and never while
// sd-bus is processing, so a handler may issue calls, cancel them, or
// destroy anything, the Bus included.
// Throws: nothing; failures come back as Expected or as error replies.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ble/dbus_value.hpp"
#include "daemon/expected.hpp"

namespace nursery::ble {

// A method reply's arguments, or its error: Error::code is the D-Bus error
// name ("org.bluez.Error.Failed"), Error::message its text. A call that was
// not answered within its timeout fails with org.freedesktop.DBus.Error.NoReply.
using Reply = Expected<std::vector<Value>>;

struct BusSignal {
  std::string sender;
  std::string path;
  std::string interface;
  std::string member;
  std::vector<Value> args;
};

class BusCore;

// An outstanding method call. Destroying or cancelling it guarantees that its
// callback never runs. Move-only.
class PendingCall {
 public:
  PendingCall() = default;
  PendingCall(std::weak_ptr<BusCore> core, std::uint64_t id) : core_(std::move(core)), id_(id) {}
  PendingCall(PendingCall&& other) noexcept { *this = std::move(other); }
  PendingCall& operator=(PendingCall&& other) noexcept;
  PendingCall(const PendingCall&) = delete;
  PendingCall& operator=(const PendingCall&) = delete;
  ~PendingCall() { cancel(); }

  void cancel();
  // Lets the call run to its end without this handle (its callback still runs).
  void detach() { id_ = 0; }
  bool pending() const;

 private:
  std::weak_ptr<BusCore> core_;
  std::uint64_t id_ = 0;
};

// A signal match rule; destroying it removes the rule. Move-only.
class Match {
 public:
  Match() = default;
  Match(std::weak_ptr<BusCore> core, std::uint64_t id) : core_(std::move(core)), id_(id) {}
  Match(Match&& other) noexcept { *this = std::move(other); }
  Match& operator=(Match&& other) noexcept;
  Match(const Match&) = delete;
  Match& operator=(const Match&) = delete;
  ~Match() { reset(); }
  void reset();

 private:
  std::weak_ptr<BusCore> core_;
  std::uint64_t id_ = 0;
};

class Bus {
 public:
  // Connects to `address` ("unix:path=..."), or to the system bus when it is
  // empty (honouring DBUS_SYSTEM_BUS_ADDRESS). A bus that cannot be reached
  // is an error ("ble_no_bus"), not an exception.
  static Expected<std::unique_ptr<Bus>> open(boost::asio::io_context& io,
                                             const std::string& address);
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // Called once, from the loop, when the connection breaks (the bus daemon
  // went away). Every outstanding call is dropped without its callback; the
  // Bus is dead from then on: destroy it and open another.
  void on_lost(std::function<void(const std::string& reason)> handler);

  [[nodiscard]] PendingCall call(const std::string& destination, const std::string& path,
                                 const std::string& interface, const std::string& method,
                                 std::vector<Value> args, std::chrono::milliseconds timeout,
                                 std::function<void(Reply)> done);

  // Adds a match rule. This is one short synchronous round trip to the bus
  // daemon (never to a service), so it is meant for start-up.
  Expected<Match> add_match(const std::string& rule, std::function<void(const BusSignal&)> handler);

  // How often the loop woke up to process this connection (fd readiness,
  // timeouts, kicks after calls). A count, for the no-busy-loop check.
  std::uint64_t wakeups() const;

 private:
  explicit Bus(std::shared_ptr<BusCore> core) : core_(std::move(core)) {}
  std::shared_ptr<BusCore> core_;
};

}  // namespace nursery::ble
