#include "mqtt/fake_connection.hpp"

#include <boost/asio/post.hpp>

#include "mqtt/topic.hpp"

namespace nursery::mqtt {

class FakeHandle final : public PubSub::Handle {
 public:
  FakeHandle(std::weak_ptr<FakeConnection*> fake, std::uint64_t id, bool watch)
      : fake_(std::move(fake)), id_(id), watch_(watch) {}
  ~FakeHandle() override {
    auto fake = fake_.lock();
    if (!fake || id_ == 0) return;
    if (watch_)
      (*fake)->unwatch(id_);
    else
      (*fake)->unsubscribe(id_);
  }

 private:
  std::weak_ptr<FakeConnection*> fake_;
  std::uint64_t id_;
  bool watch_;
};

FakeConnection::FakeConnection(boost::asio::io_context& io, std::size_t max_payload)
    : io_(io), max_payload_(max_payload), self_(std::make_shared<FakeConnection*>(this)) {}

FakeConnection::~FakeConnection() = default;

void FakeConnection::publish(std::string topic, std::string payload, PublishOptions options) {
  if (auto s = validate_topic_name(topic); !s || options.qos < 0 || options.qos > 2) {
    ++stats_.refused_publishes;
    stats_.last_error = s ? "qos must be 0, 1 or 2" : s.error().message;
    return;
  }
  PublishedMessage m{std::move(topic), std::move(payload), options};
  if (!connected_ || flush_pending_) {  // behind what waits, as in Client
    queue_.push_back(std::move(m));
    return;
  }
  send(std::move(m));
}

void FakeConnection::send(PublishedMessage m) {
  ++stats_.published;
  if (m.options.retain) {
    if (m.payload.empty())
      retained_.erase(m.topic);
    else
      retained_[m.topic] = m.payload;
  }
  route(PubSubMessage{m.topic, m.payload, false});
  published_.push_back(std::move(m));
}

std::unique_ptr<PubSub::Handle> FakeConnection::subscribe(
    std::string filter, std::function<void(const PubSubMessage&)> handler) {
  if (auto s = validate_topic_filter(filter); !s) {
    stats_.last_error = s.error().message;
    return std::make_unique<FakeHandle>(self_, 0, false);
  }
  const std::uint64_t id = next_id_++;
  if (connected_)
    for (const auto& [topic, payload] : retained_)
      if (topic_matches(filter, topic)) deliver_later(id, PubSubMessage{topic, payload, true});
  subscriptions_.emplace(
      id, Subscription{
              std::move(filter),
              std::make_shared<std::function<void(const PubSubMessage&)>>(std::move(handler))});
  return std::make_unique<FakeHandle>(self_, id, false);
}

std::unique_ptr<PubSub::Handle> FakeConnection::watch_connection(
    std::function<void(bool)> handler) {
  const std::uint64_t id = next_id_++;
  watchers_.emplace(id, std::make_shared<std::function<void(bool)>>(std::move(handler)));
  return std::make_unique<FakeHandle>(self_, id, true);
}

Stats FakeConnection::stats() const {
  Stats s = stats_;
  s.connected = connected_;
  s.queued = queue_.size();
  return s;
}

void FakeConnection::set_connected(bool up) {
  if (up == connected_) return;
  connected_ = up;
  if (up) {
    flush_pending_ = true;
    ++stats_.connects;
    if (stats_.connects > 1) ++stats_.reconnects;
    for (const auto& [id, sub] : subscriptions_)
      for (const auto& [topic, payload] : retained_)
        if (topic_matches(sub.filter, topic))
          deliver_later(id, PubSubMessage{topic, payload, true});
  }
  // Watchers are told after the retained deliveries above (posting keeps the order).
  for (const auto& [id, handler] : watchers_) {
    boost::asio::post(io_, [weak = std::weak_ptr<FakeConnection*>(self_), id = id, up] {
      auto self = weak.lock();
      if (!self) return;
      auto it = (*self)->watchers_.find(id);
      if (it == (*self)->watchers_.end()) return;
      auto handler_copy = it->second;
      (*handler_copy)(up);
    });
  }
  if (up) {
    // After the watchers: what they publish joins the end of the queue.
    boost::asio::post(io_, [weak = std::weak_ptr<FakeConnection*>(self_)] {
      auto self = weak.lock();
      if (!self) return;
      (*self)->flush_pending_ = false;
      if (!(*self)->connected_) return;
      auto queued = std::move((*self)->queue_);
      (*self)->queue_.clear();
      for (auto& m : queued) (*self)->send(std::move(m));
    });
  }
}

void FakeConnection::inject(PubSubMessage message) { route(message); }

void FakeConnection::retain(std::string topic, std::string payload) {
  if (payload.empty())
    retained_.erase(topic);
  else
    retained_[std::move(topic)] = std::move(payload);
}

void FakeConnection::route(const PubSubMessage& message) {
  if (message.payload.size() > max_payload_) {
    ++stats_.oversize_refused;
    boost::asio::post(io_, [weak = std::weak_ptr<FakeConnection*>(self_), message] {
      auto self = weak.lock();
      if (!self || !(*self)->oversize_) return;
      auto handler = (*self)->oversize_;
      handler(message.topic, message.payload.size(), message.retained);
    });
    return;
  }
  ++stats_.received;
  for (const auto& [id, sub] : subscriptions_)
    if (topic_matches(sub.filter, message.topic)) deliver_later(id, message);
}

void FakeConnection::deliver_later(std::uint64_t subscription, PubSubMessage message) {
  boost::asio::post(io_, [weak = std::weak_ptr<FakeConnection*>(self_), subscription,
                          message = std::move(message)] {
    auto self = weak.lock();
    if (!self) return;
    auto it = (*self)->subscriptions_.find(subscription);
    if (it == (*self)->subscriptions_.end()) return;
    auto handler = it->second.handler;
    (*handler)(message);
  });
}

}  // namespace nursery::mqtt
