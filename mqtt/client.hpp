#pragma once
// The MQTT client of the hub: Paho MQTT C++ 1.2 (MQTT 3.1.1) driven from the
// one event loop. Paho runs its own threads; every Paho callback only copies
// what it got and posts it onto the loop (asio::post), so all state here is
// touched on the loop thread alone, with no lock. Knows nothing of nurseries.
//
// - Connecting and reconnecting are done here, on the loop, rather than by
//   Paho's automatic_reconnect: Paho reports no failed reconnect attempt, so
//   a broker refusing the credentials would go unseen; here every failure is
//   logged, kept in stats().last_error, and retried after a backoff.
// - On every (re)connect: TCP_NODELAY on the new socket, then every live
//   subscription is renewed, then watch_connection handlers get true, then
//   the queue is sent, oldest first.
// - Publishing goes through a bounded queue (see OutgoingQueue and
//   Options::max_queued) while the broker is away or Paho's window is full.
//   Sessions are clean: a message in flight when the link drops is queued
//   again and sent after the reconnect (at least once).
// - Incoming messages over max_payload reach no subscriber: on_oversize().
//
// Thread: every method on the loop thread; every handler is invoked on the
// loop thread, never from inside the call that registered it. Only the
// constructor throws (std::invalid_argument for bad options); runtime
// failures are logged, counted in stats() and retried.
// Lifetime: destroy the Client before its io_context. Destroying it without
// stop() disconnects at once (no final message, no will).

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "daemon/log.hpp"
#include "mqtt/connection.hpp"
#include "mqtt/options.hpp"

namespace nursery::mqtt {

class Client final : public Connection {
 public:
  // Throws std::invalid_argument with validate()'s message for bad options.
  Client(boost::asio::io_context& io, Logger log, Options options);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects in the background and keeps reconnecting until stop(). Does
  // nothing when already started.
  void start();
  // Sends what is queued, then the final message (Options::final_message),
  // then disconnects cleanly, waiting at most Options::stop_timeout; then
  // invokes `done`. Not connected: drops the queue and invokes `done`.
  // Later publishes are refused (counted). The client cannot be restarted.
  void stop(std::function<void()> done);

  // PubSub. A publish to an invalid topic (see validate_topic_name) or with
  // a QoS outside 0..2 is refused: logged, counted, never sent. An invalid
  // filter is logged and its handle never fires.
  void publish(std::string topic, std::string payload, PublishOptions options) override;
  std::unique_ptr<Handle> subscribe(std::string filter,
                                    std::function<void(const PubSubMessage&)> handler) override;
  bool connected() const override;
  std::unique_ptr<Handle> watch_connection(std::function<void(bool connected)> handler) override;

  // Connection.
  Stats stats() const override;
  void on_oversize(OversizeHandler handler) override;
  std::size_t max_payload() const override;

  const std::string& client_id() const;
  // The socket of the current connection, on which TCP_NODELAY was set; -1
  // when not connected. For diagnostics and tests; do not read or write it.
  int socket_fd() const;

  class Core;  // the state the loop owns; Paho's threads hold only a weak_ptr

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace nursery::mqtt
