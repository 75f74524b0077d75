#include "mqtt/client.hpp"

#include <fmt/format.h>
#include <mqtt/async_client.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "mqtt/outgoing_queue.hpp"
#include "mqtt/socket_tuning.hpp"
#include "mqtt/topic.hpp"

namespace nursery::mqtt {
namespace {

namespace asio = boost::asio;
using Millis = std::chrono::milliseconds;

// Paho's user context is a void*; ours is a number (a connect generation or
// a message's seq), carried in the pointer itself and never dereferenced.
void* as_context(std::uint64_t n) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(n));
}
std::uint64_t from_context(void* p) { return reinterpret_cast<std::uintptr_t>(p); }

std::string random_client_id() {
  std::random_device rd;
  return fmt::format("nursery-{:08x}{:04x}", rd(), rd() & 0xffffU);
}

// The broker's CONNACK codes (MQTT 3.1.1, 3.2.2.3) and Paho's own failures,
// as a person would want to read them.
std::string describe_connect_failure(int rc) {
  switch (rc) {
    case 1:
      return "the broker refused the connection: unacceptable protocol version";
    case 2:
      return "the broker refused the connection: client identifier rejected";
    case 3:
      return "the broker refused the connection: server unavailable";
    case 4:
      return "the broker refused the connection: bad user name or password";
    case 5:
      return "the broker refused the connection: not authorised (check username and password)";
    case MQTTASYNC_FAILURE:
      return "could not connect (TCP/TLS connect failure, or no answer within connect_timeout)";
    default:
      return fmt::format("could not connect: {}", ::mqtt::exception::error_str(rc));
  }
}

}  // namespace

// --- Core -------------------------------------------------------------------

class Client::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(asio::io_context& io, Logger log, Options options, BrokerAddress broker)
      : io_(io),
        log_(std::move(log)),
        options_(std::move(options)),
        broker_(std::move(broker)),
        queue_(options_.max_queued),
        retry_timer_(io),
        stop_timer_(io),
        backoff_(options_.reconnect_min),
        jitter_(std::random_device{}()) {
    if (options_.client_id.empty()) options_.client_id = random_client_id();
  }

  ~Core() {
    if (!paho_) return;
    try {
      // A blocking wait is allowed here: this is not a Paho callback, and
      // the client is going away. Without it Paho could still be inside a
      // message callback of this client while it is destroyed.
      if (paho_->is_connected()) paho_->disconnect(0)->wait_for(Millis(1000));
    } catch (const ::mqtt::exception&) {
      // Already gone: nothing to disconnect.
    }
  }

  // Creates the Paho client and its callbacks; needs shared_from_this, so it
  // cannot be in the constructor. Throws std::invalid_argument (start-up).
  void init() {
    const Poster poster{io_.get_executor(), weak_from_this()};
    connect_listener_.poster = subscribe_listener_.poster = publish_listener_.poster =
        disconnect_listener_.poster = poster;
    connect_listener_.op = Op::Connect;
    subscribe_listener_.op = Op::Subscribe;
    publish_listener_.op = Op::Publish;
    disconnect_listener_.op = Op::Disconnect;
    try {
      paho_ =
          std::make_unique<::mqtt::async_client>(broker_.paho_uri(), options_.client_id, nullptr);
    } catch (const ::mqtt::exception& e) {
      throw std::invalid_argument(
          fmt::format("MQTT client for {}: {}", broker_.describe(), e.what()));
    }
    // Paho's thread: copy, post, return.
    const std::size_t max_payload = options_.max_payload;
    paho_->set_message_callback([poster, max_payload](::mqtt::const_message_ptr m) {
      const std::size_t size = m->get_payload_ref().size();
      if (size > max_payload) {
        poster.post([topic = m->get_topic(), size, retained = m->is_retained()](Core& c) {
          c.on_oversize_message(topic, size, retained);
        });
        return;
      }
      poster.post([msg = PubSubMessage{m->get_topic(), m->get_payload_str(), m->is_retained()}](
                      Core& c) { c.on_message(msg); });
    });
    paho_->set_connection_lost_handler([poster](const std::string& cause) {
      poster.post([cause](Core& c) { c.on_connection_lost(cause); });
    });
  }

  // --- the loop side ---

  void start() {
    if (phase_ != Phase::Idle) return;
    log_.info("connecting to {} as \"{}\"", broker_.describe(), options_.client_id);
    attempt_connect();
  }

  void stop(std::function<void()> done) {
    if (phase_ == Phase::Stopped || stopping_) {
      if (done) asio::post(io_, std::move(done));
      return;
    }
    stopping_ = true;
    stop_done_ = std::move(done);
    retry_timer_.cancel();
    if (phase_ != Phase::Connected) {
      if (!queue_.empty())
        log_.notice("stopping while not connected: {} queued message(s) not sent", queue_.size());
      finish_stop();
      return;
    }
    if (options_.final_message) {
      const FixedMessage& f = *options_.final_message;
      enqueue(Outgoing{next_seq_++, f.topic, f.payload, f.qos, f.retained, PublishKind::Command});
    }
    stop_timer_.expires_after(options_.stop_timeout);
    stop_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->phase_ != Phase::Connected) return;
      self->log_.warning("stop: {} message(s) still unsent after {} ms; disconnecting",
                         self->queue_.size() + self->in_flight_.size(),
                         self->options_.stop_timeout.count());
      self->disconnect_now();
    });
    pump();
    maybe_disconnect_after_drain();
  }

  void publish(std::string topic, std::string payload, PublishOptions po) {
    if (stopping_ || phase_ == Phase::Stopped) {
      ++stats_.refused_publishes;
      log_.debug("publish to \"{}\" after stop refused", topic);
      return;
    }
    if (auto s = validate_topic_name(topic); !s) {
      refuse(fmt::format("publish refused: {}", s.error().message));
      return;
    }
    if (po.qos < 0 || po.qos > 2) {
      refuse(fmt::format("publish to \"{}\" refused: qos {} is not 0, 1 or 2", topic, po.qos));
      return;
    }
    enqueue(
        Outgoing{next_seq_++, std::move(topic), std::move(payload), po.qos, po.retain, po.kind});
    pump();
  }

  std::uint64_t subscribe(std::string filter, std::function<void(const PubSubMessage&)> handler) {
    if (auto s = validate_topic_filter(filter); !s) {
      stats_.last_error = s.error().message;
      log_.error("subscribe refused: {}", s.error().message);
      return 0;
    }
    const std::uint64_t id = next_id_++;
    if (filter_refs_[filter]++ == 0 && (phase_ == Phase::Subscribing || phase_ == Phase::Connected))
      subscribe_one(filter);
    subscriptions_.emplace(
        id, Subscription{std::move(filter), std::make_shared<MessageHandler>(std::move(handler))});
    return id;
  }

  void unsubscribe(std::uint64_t id) {
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return;
    const std::string filter = it->second.filter;
    subscriptions_.erase(it);
    if (--filter_refs_[filter] > 0) return;
    filter_refs_.erase(filter);
    if (phase_ != Phase::Subscribing && phase_ != Phase::Connected) return;
    try {
      paho_->unsubscribe(filter);
    } catch (const ::mqtt::exception& e) {
      log_.debug("unsubscribe \"{}\": {}", filter, e.what());  // the link is going anyway
    }
  }

  std::uint64_t watch(std::function<void(bool)> handler) {
    const std::uint64_t id = next_id_++;
    watchers_.emplace(id, std::make_shared<std::function<void(bool)>>(std::move(handler)));
    return id;
  }
  void unwatch(std::uint64_t id) { watchers_.erase(id); }

  Stats stats() const {
    Stats s = stats_;
    s.connected = phase_ == Phase::Connected;
    s.queued = queue_.size();
    s.in_flight = in_flight_.size();
    s.tcp_nodelay = s.connected && socket_fd_ >= 0 && nodelay_is_set(socket_fd_);
    return s;
  }

  bool connected() const { return phase_ == Phase::Connected; }
  int socket_fd() const { return phase_ == Phase::Connected ? socket_fd_ : -1; }
  const Options& options() const { return options_; }
  void set_oversize_handler(OversizeHandler h) { oversize_ = std::move(h); }

 private:
  enum class Phase { Idle, Connecting, Subscribing, Connected, WaitingToRetry, Stopped };
  enum class Op { Connect, Subscribe, Publish, Disconnect };
  using MessageHandler = std::function<void(const PubSubMessage&)>;

  struct Subscription {
    std::string filter;
    std::shared_ptr<MessageHandler> handler;  // shared: a handler may end its own subscription
  };

  // Hands a job from Paho's threads to the loop; the job runs only if the
  // Core still exists then (checked on the loop, where it is destroyed).
  struct Poster {
    asio::any_io_executor executor;
    std::weak_ptr<Core> core;
    template <typename F>
    void post(F job) const {
      asio::post(executor, [core = core, job = std::move(job)]() mutable {
        if (auto c = core.lock()) job(*c);
      });
    }
  };

  // Paho's action listener: runs on Paho's thread.
  struct Listener final : ::mqtt::iaction_listener {
    Poster poster;
    Op op = Op::Connect;
    void on_success(const ::mqtt::token& tok) override {
      poster.post([op = op, ctx = from_context(tok.get_user_context())](Core& c) {
        c.on_done(op, ctx, true, 0);
      });
    }
    void on_failure(const ::mqtt::token& tok) override {
      poster.post([op = op, ctx = from_context(tok.get_user_context()),
                   rc = tok.get_return_code()](Core& c) { c.on_done(op, ctx, false, rc); });
    }
  };

  void on_done(Op op, std::uint64_t ctx, bool ok, int rc) {
    switch (op) {
      case Op::Connect:
        on_connect_done(ctx, ok, rc);
        break;
      case Op::Subscribe:
        on_subscribe_done(ctx, ok, rc);
        break;
      case Op::Publish:
        on_publish_done(ctx, ok, rc);
        break;
      case Op::Disconnect:
        if (ctx == generation_ && phase_ == Phase::Connected) finish_stop();
        break;
    }
  }

  ::mqtt::connect_options connect_options() const {
    ::mqtt::connect_options_builder b;
    // mqtt_version() first: in Paho C++ 1.2.0 it resets clean_session.
    b.mqtt_version(MQTTVERSION_3_1_1)
        .clean_session(true)
        .automatic_reconnect(false)
        .keep_alive_interval(options_.keep_alive)
        .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(options_.connect_timeout))
        .max_inflight(options_.max_inflight);
    if (!options_.username.empty()) b.user_name(options_.username);
    if (!options_.password.empty()) b.password(options_.password);
    if (options_.will) {
      const FixedMessage& w = *options_.will;
      b.will(::mqtt::will_options(w.topic, w.payload, w.qos, w.retained));
    }
    if (broker_.tls) {
      ::mqtt::ssl_options ssl;
      const TlsOptions& t = options_.tls;
      if (!t.ca_file.empty()) ssl.set_trust_store(t.ca_file);
      if (!t.cert_file.empty()) ssl.set_key_store(t.cert_file);
      if (!t.key_file.empty()) ssl.set_private_key(t.key_file);
      ssl.set_enable_server_cert_auth(t.verify);
      ssl.set_verify(t.verify);
      // No ssl.set_error_handler(): in Paho C++ 1.2.0 the handler's context
      // points at the ssl_options object that was copied away, and OpenSSL's
      // first error then calls through a dangling pointer (found by a test).
      b.ssl(std::move(ssl));
    }
    return b.finalize();
  }

  void attempt_connect() {
    ++generation_;
    phase_ = Phase::Connecting;
    sockets_before_.clear();
    for (const SocketRef& s : sockets_to(broker_)) sockets_before_.insert(s.inode);
    try {
      paho_->connect(connect_options(), as_context(generation_), connect_listener_);
    } catch (const ::mqtt::exception& e) {
      on_connect_failed(fmt::format("could not start connecting: {}", e.what()));
    }
  }

  void on_connect_done(std::uint64_t gen, bool ok, int rc) {
    if (gen != generation_) return;
    if (phase_ == Phase::Stopped && ok) {
      disconnect_quietly();  // stopped while this connect was under way
      return;
    }
    if (phase_ != Phase::Connecting) return;
    if (!ok) {
      std::string why = describe_connect_failure(rc);
      if (broker_.tls && rc == MQTTASYNC_FAILURE)
        why += "; over TLS, check tls.ca_file against the broker's certificate and host name";
      on_connect_failed(std::move(why));
      return;
    }
    auto fd = set_nodelay_on_new_sockets(broker_, sockets_before_);
    if (fd) {
      socket_fd_ = *fd;
    } else {
      socket_fd_ = -1;
      log_.warning("{}", fd.error().message);
    }
    if (filter_refs_.empty()) {
      on_subscribed();
      return;
    }
    phase_ = Phase::Subscribing;
    auto filters = std::make_shared<::mqtt::string_collection>();
    ::mqtt::iasync_client::qos_collection qos;
    for (const auto& [filter, refs] : filter_refs_) {
      filters->push_back(filter);
      qos.push_back(options_.qos);
    }
    try {
      paho_->subscribe(filters, qos, as_context(generation_), subscribe_listener_);
    } catch (const ::mqtt::exception& e) {
      // Only when the link has just dropped; connection_lost follows.
      log_.warning("renewing {} subscription(s): {}", filters->size(), e.what());
    }
  }

  void on_connect_failed(std::string why) {
    ++stats_.connect_failures;
    // Every failure is logged: an admin fixing a password wants to see each try.
    log_.error("cannot connect to {}: {}; retrying in {} ms", broker_.describe(), why,
               backoff_.count());
    stats_.last_error = std::move(why);
    schedule_retry();
  }

  void schedule_retry() {
    phase_ = Phase::WaitingToRetry;
    std::uniform_int_distribution<long> extra(0, backoff_.count() / 4);
    retry_timer_.expires_after(backoff_ + Millis(extra(jitter_)));
    backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
    retry_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->phase_ != Phase::WaitingToRetry) return;
      self->attempt_connect();
    });
  }

  void subscribe_one(const std::string& filter) {
    try {
      // Context 0: a single new subscription, not the renewal of a connect.
      paho_->subscribe(filter, options_.qos, as_context(0), subscribe_listener_);
    } catch (const ::mqtt::exception& e) {
      log_.warning("subscribe \"{}\": {} (renewed on the next connect)", filter, e.what());
    }
  }

  void on_subscribe_done(std::uint64_t gen, bool ok, int rc) {
    if (!ok) {
      stats_.last_error =
          fmt::format("the broker refused a subscription: {}", ::mqtt::exception::error_str(rc));
      log_.warning("{}", stats_.last_error);
    }
    if (gen != 0 && gen == generation_ && phase_ == Phase::Subscribing) on_subscribed();
  }

  void on_subscribed() {
    phase_ = Phase::Connected;
    backoff_ = options_.reconnect_min;
    ++stats_.connects;
    if (stats_.connects > 1) ++stats_.reconnects;
    log_.notice("connected to {}{}", broker_.describe(),
                socket_fd_ >= 0 ? "" : " (TCP_NODELAY not set)");
    notify_watchers(true);
    pump();
  }

  void on_connection_lost(const std::string& cause) {
    if (phase_ != Phase::Connected && phase_ != Phase::Subscribing) return;
    const bool was_connected = phase_ == Phase::Connected;
    socket_fd_ = -1;
    stats_.last_error = fmt::format("connection to {} lost{}{}", broker_.describe(),
                                    cause.empty() ? "" : ": ", cause);
    log_.warning("{}; reconnecting", stats_.last_error);
    requeue_in_flight();
    if (stopping_) {
      finish_stop();
      return;
    }
    backoff_ = options_.reconnect_min;
    schedule_retry();
    if (was_connected) notify_watchers(false);
  }

  void enqueue(Outgoing m) {
    const std::size_t dropped = queue_.push(std::move(m));
    if (dropped == 0) return;
    stats_.dropped_state += dropped;
    // One line per power of two: a flood must not become a flood of log lines.
    if ((stats_.dropped_state & (stats_.dropped_state - 1)) == 0)
      log_.warning("outgoing queue full ({} messages): {} state message(s) dropped so far",
                   queue_.bound(), stats_.dropped_state);
  }

  void requeue_in_flight() {
    for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it)
      stats_.dropped_state += queue_.push_front(std::move(it->second));
    in_flight_.clear();
  }

  void pump() {
    while (phase_ == Phase::Connected &&
           in_flight_.size() < static_cast<std::size_t>(options_.max_inflight)) {
      std::optional<Outgoing> m = queue_.pop();
      if (!m) break;
      const std::uint64_t seq = m->seq;
      auto msg = ::mqtt::make_message(m->topic, m->payload, m->qos, m->retain);
      try {
        paho_->publish(msg, as_context(seq), publish_listener_);
        in_flight_.emplace(seq, std::move(*m));
      } catch (const ::mqtt::exception& e) {
        if (e.get_return_code() == MQTTASYNC_DISCONNECTED) {
          stats_.dropped_state += queue_.push_front(std::move(*m));  // connection_lost follows
          break;
        }
        refuse(fmt::format("publish to \"{}\" failed: {}", m->topic, e.what()));
      }
    }
    maybe_disconnect_after_drain();
  }

  void on_publish_done(std::uint64_t seq, bool ok, int rc) {
    auto it = in_flight_.find(seq);
    if (it == in_flight_.end()) return;  // queued again after the link dropped
    Outgoing m = std::move(it->second);
    in_flight_.erase(it);
    if (ok) {
      ++stats_.published;
    } else if (phase_ != Phase::Connected) {
      stats_.dropped_state += queue_.push_front(std::move(m));
    } else {
      refuse(
          fmt::format("publish to \"{}\" failed: {}", m.topic, ::mqtt::exception::error_str(rc)));
    }
    pump();
  }

  void maybe_disconnect_after_drain() {
    if (stopping_ && phase_ == Phase::Connected && queue_.empty() && in_flight_.empty() &&
        !disconnecting_)
      disconnect_now();
  }

  void disconnect_now() {
    disconnecting_ = true;
    try {
      paho_->disconnect(500, as_context(generation_), disconnect_listener_);
    } catch (const ::mqtt::exception& e) {
      log_.warning("disconnect: {}", e.what());
      finish_stop();
    }
  }

  void disconnect_quietly() {
    try {
      paho_->disconnect(0);
    } catch (const ::mqtt::exception&) {
      // Not connected after all: nothing to end.
    }
  }

  void finish_stop() {
    const bool was_connected = phase_ == Phase::Connected;
    if (!disconnecting_ && phase_ == Phase::Subscribing) disconnect_quietly();
    phase_ = Phase::Stopped;
    stop_timer_.cancel();
    retry_timer_.cancel();
    socket_fd_ = -1;
    queue_.clear();
    in_flight_.clear();
    log_.info("disconnected from {}", broker_.describe());
    if (was_connected) notify_watchers(false);
    if (stop_done_) asio::post(io_, std::move(stop_done_));
    stop_done_ = nullptr;
  }

  void on_message(const PubSubMessage& msg) {
    ++stats_.received;
    std::vector<std::uint64_t> targets;
    for (const auto& [id, sub] : subscriptions_)
      if (topic_matches(sub.filter, msg.topic)) targets.push_back(id);
    for (std::uint64_t id : targets) {
      // A handler may end any subscription, its own included: look each up
      // again, and call a copy that outlives the subscription.
      auto it = subscriptions_.find(id);
      if (it == subscriptions_.end()) continue;
      std::shared_ptr<MessageHandler> handler = it->second.handler;
      (*handler)(msg);
    }
  }

  void on_oversize_message(const std::string& topic, std::size_t size, bool retained) {
    ++stats_.oversize_refused;
    log_.warning("refused a {}message of {} bytes on \"{}\": max_payload is {} bytes",
                 retained ? "retained " : "", size, topic, options_.max_payload);
    if (oversize_) {
      auto handler = oversize_;  // the handler may replace itself
      handler(topic, size, retained);
    }
  }

  void notify_watchers(bool up) {
    std::vector<std::pair<std::uint64_t, std::shared_ptr<std::function<void(bool)>>>> targets(
        watchers_.begin(), watchers_.end());
    for (const auto& [id, handler] : targets)
      if (watchers_.count(id)) (*handler)(up);
  }

  void refuse(std::string why) {
    ++stats_.refused_publishes;
    log_.error("{}", why);
    stats_.last_error = std::move(why);
  }

  asio::io_context& io_;
  Logger log_;
  Options options_;
  BrokerAddress broker_;
  OutgoingQueue queue_;
  asio::steady_timer retry_timer_;
  asio::steady_timer stop_timer_;
  Millis backoff_;
  std::minstd_rand jitter_;

  Phase phase_ = Phase::Idle;
  bool stopping_ = false;
  bool disconnecting_ = false;
  std::function<void()> stop_done_;
  std::uint64_t generation_ = 0;  // of the current connect attempt; older answers are ignored
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Outgoing> in_flight_;  // by seq
  std::map<std::uint64_t, Subscription> subscriptions_;
  std::map<std::string, int> filter_refs_;  // each filter is subscribed once at the broker
  std::map<std::uint64_t, std::shared_ptr<std::function<void(bool)>>> watchers_;
  OversizeHandler oversize_;
  Stats stats_;
  std::set<ino_t> sockets_before_;
  int socket_fd_ = -1;

  // Declared last so that Paho (and its threads' use of the listeners) goes first.
  Listener connect_listener_;
  Listener subscribe_listener_;
  Listener publish_listener_;
  Listener disconnect_listener_;
  std::unique_ptr<::mqtt::async_client> paho_;
};

// --- handles ------------------------------------------------------------------

namespace {

class SubscriptionHandle final : public PubSub::Handle {
 public:
  SubscriptionHandle(std::weak_ptr<Client::Core> core, std::uint64_t id, bool watch)
      : core_(std::move(core)), id_(id), watch_(watch) {}
  ~SubscriptionHandle() override;

 private:
  std::weak_ptr<Client::Core> core_;
  std::uint64_t id_;
  bool watch_;
};

}  // namespace

// --- Client -------------------------------------------------------------------

Client::Client(boost::asio::io_context& io, Logger log, Options options) {
  if (auto s = validate(options); !s) throw std::invalid_argument(s.error().message);
  auto broker = parse_broker_uri(options.uri);
  core_ = std::make_shared<Core>(io, std::move(log), std::move(options), std::move(*broker));
  core_->init();
}

Client::~Client() = default;

void Client::start() { core_->start(); }
void Client::stop(std::function<void()> done) { core_->stop(std::move(done)); }

void Client::publish(std::string topic, std::string payload, PublishOptions options) {
  core_->publish(std::move(topic), std::move(payload), options);
}

std::unique_ptr<PubSub::Handle> Client::subscribe(
    std::string filter, std::function<void(const PubSubMessage&)> handler) {
  const std::uint64_t id = core_->subscribe(std::move(filter), std::move(handler));
  return std::make_unique<SubscriptionHandle>(core_, id, false);
}

bool Client::connected() const { return core_->connected(); }

std::unique_ptr<PubSub::Handle> Client::watch_connection(std::function<void(bool)> handler) {
  return std::make_unique<SubscriptionHandle>(core_, core_->watch(std::move(handler)), true);
}

Stats Client::stats() const { return core_->stats(); }
void Client::on_oversize(OversizeHandler handler) {
  core_->set_oversize_handler(std::move(handler));
}
std::size_t Client::max_payload() const { return core_->options().max_payload; }
const std::string& Client::client_id() const { return core_->options().client_id; }
int Client::socket_fd() const { return core_->socket_fd(); }

namespace {
SubscriptionHandle::~SubscriptionHandle() {
  auto core = core_.lock();
  if (!core || id_ == 0) return;
  if (watch_)
    core->unwatch(id_);
  else
    core->unsubscribe(id_);
}
}  // namespace

}  // namespace nursery::mqtt
