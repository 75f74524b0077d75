#pragma once
// An in-memory Connection for testing code built on the MQTT client (the
// bridge, the MQTT drivers) without a broker: a client and a broker in one
// object. It keeps the contract of Client: messages published while
// disconnected wait and go out on connect; on every connect the retained
// messages matching each subscription are delivered (as a broker does when
// the client resubscribes), then watchers hear true, then the queue is sent;
// a published message is also delivered to matching subscriptions (a broker
// echoes it); payloads over max_payload go to on_oversize instead.
//
// Thread: the loop thread. Every handler runs from the loop (posted), never
// inside the call that caused it. Nothing here throws.

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mqtt/connection.hpp"

namespace nursery::mqtt {

struct PublishedMessage {
  std::string topic;
  std::string payload;
  PublishOptions options;
};

class FakeConnection final : public Connection {
 public:
  explicit FakeConnection(boost::asio::io_context& io, std::size_t max_payload = 64 * 1024);
  ~FakeConnection() override;

  // PubSub. An invalid topic or filter is refused and counted, as by Client.
  void publish(std::string topic, std::string payload, PublishOptions options) override;
  std::unique_ptr<Handle> subscribe(std::string filter,
                                    std::function<void(const PubSubMessage&)> handler) override;
  bool connected() const override { return connected_; }
  std::unique_ptr<Handle> watch_connection(std::function<void(bool connected)> handler) override;

  // Connection.
  Stats stats() const override;
  void on_oversize(OversizeHandler handler) override { oversize_ = std::move(handler); }
  std::size_t max_payload() const override { return max_payload_; }

  // --- the test's side (the broker) ---

  // Connects (renewing subscriptions, telling watchers, sending the queue)
  // or drops the link (telling watchers false). Starts disconnected.
  void set_connected(bool up);
  // As if another client published `message`: delivered to every matching
  // subscription with its retained flag as given.
  void inject(PubSubMessage message);
  // Puts a message in the broker's retained store (an empty payload clears it).
  void retain(std::string topic, std::string payload);

  // What reached the broker, oldest first (not what waits in the queue).
  const std::vector<PublishedMessage>& published() const { return published_; }
  void clear_published() { published_.clear(); }
  const std::map<std::string, std::string>& retained() const { return retained_; }
  std::size_t subscription_count() const { return subscriptions_.size(); }

 private:
  struct Subscription {
    std::string filter;
    std::shared_ptr<std::function<void(const PubSubMessage&)>> handler;
  };
  void deliver_later(std::uint64_t subscription, PubSubMessage message);
  void route(const PubSubMessage& message);  // to every matching subscription, posted
  void send(PublishedMessage message);
  void unsubscribe(std::uint64_t id) { subscriptions_.erase(id); }
  void unwatch(std::uint64_t id) { watchers_.erase(id); }
  friend class FakeHandle;

  boost::asio::io_context& io_;
  std::size_t max_payload_;
  bool connected_ = false;
  bool flush_pending_ = false;  // connected, queue not yet sent: new messages wait behind it
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Subscription> subscriptions_;
  std::map<std::uint64_t, std::shared_ptr<std::function<void(bool)>>> watchers_;
  std::vector<PublishedMessage> queue_;
  std::vector<PublishedMessage> published_;
  std::map<std::string, std::string> retained_;
  OversizeHandler oversize_;
  Stats stats_;
  std::shared_ptr<FakeConnection*> self_;  // posted jobs and handles hold a weak_ptr to it
};

}  // namespace nursery::mqtt
