#include "mqtt/bridge/bridge.hpp"

#include <fmt/format.h>

#include <map>
#include <random>
#include <set>
#include <variant>

#include "daemon/api_json/api_json.hpp"
#include "mqtt/bridge/discovery.hpp"
#include "mqtt/bridge/topics.hpp"
#include "mqtt/topic.hpp"

namespace nursery::mqtt::bridge {
namespace {

// Home Assistant asks for a short random delay before discovery is
// republished after its birth message, so that a restart of HA is not met
// by every client of the broker at once.
constexpr Duration kBirthDelayMin = std::chrono::milliseconds(500);
constexpr Duration kBirthDelayMax = std::chrono::milliseconds(3000);

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

class Bridge::Impl {
 public:
  Impl(Clock& clock, Connection& connection, HubApi& hub, HubEvents& events,
       std::function<const config::Config&()> config, config::MqttConfig settings, Logger log)
      : clock_(clock),
        conn_(connection),
        hub_(hub),
        config_(std::move(config)),
        settings_(std::move(settings)),
        log_(std::move(log)),
        topics_{settings_.base_topic},
        birth_alarm_(clock_.make_alarm()),
        random_(std::random_device{}()) {
    remember_layout();
    discovery_ = discovery_topics();
    auto on_command = [this](const PubSubMessage& m) { command(m); };
    subscriptions_.push_back(conn_.subscribe(topics_.commands_filter(), on_command));
    subscriptions_.push_back(conn_.subscribe(topics_.light_commands_filter(), on_command));
    subscriptions_.push_back(conn_.subscribe(topics_.near_miss_filter(), on_command));
    subscriptions_.push_back(conn_.subscribe(
        discovery_filter(settings_), [this](const PubSubMessage& m) { stale_discovery(m); }));
    subscriptions_.push_back(conn_.subscribe(settings_.discovery_prefix + "/status",
                                             [this](const PubSubMessage& m) { birth(m); }));
    conn_.on_oversize([this](const std::string& topic, std::size_t size, bool retained) {
      oversize(topic, size, retained);
    });
    watch_ = conn_.watch_connection([this](bool up) {
      if (up) connected();
    });
    events_ = events.subscribe([this](const HubEvent& e) { event(e); });
  }

  const config::MqttConfig& settings() const { return settings_; }

 private:
  // --- publishing ---------------------------------------------------------

  void connected() {
    log_.info("publishing the hub's status, state and Home Assistant discovery on {}/…",
              settings_.base_topic);
    conn_.publish(topics_.status(), "online", {settings_.qos, true, PublishKind::State});
    publish_all();
  }

  // Retained state: while the broker is away it is not queued (it would be
  // stale by the reconnect, which republishes everything anyway).
  void publish_state(std::string topic, std::string payload) {
    if (!conn_.connected()) return;
    conn_.publish(std::move(topic), std::move(payload), {settings_.qos, true, PublishKind::State});
  }

  void publish_all() {
    const auto status = hub_.status();
    for (const auto& m : discovery_messages(config_(), status, settings_))
      publish_state(m.topic, m.payload);
    for (const auto& room : status.rooms) {
      publish_state(topics_.routine(room.id), dump_json(to_json(room.routine)));
      for (const auto& d : room.devices) publish_device(room.id, d);
    }
  }

  void publish_device(const std::string& room, const DeviceStatus& d) {
    publish_state(topics_.device(room, d.id), dump_json(to_json(d)));
    if (has(d.capabilities, Capability::Light))
      publish_state(topics_.light(room, d.id), dump_json(light_state_json(d.state)));
  }

  void publish_device(const std::string& room, const std::string& id) {
    if (!conn_.connected()) return;
    const auto status = hub_.status();
    for (const auto& r : status.rooms)
      if (r.id == room)
        for (const auto& d : r.devices)
          if (d.id == id) publish_device(room, d);
  }

  // --- hub events ---------------------------------------------------------

  void event(const HubEvent& e) {
    std::visit(Overloaded{
                   [&](const event::Routine& r) {
                     publish_state(topics_.routine(r.room), dump_json(to_json(r.status)));
                   },
                   [&](const event::DeviceBattery& b) {
                     publish_device(b.room, b.device);
                     refresh_discovery();  // a battery sensor, once there is a battery
                   },
                   [&](const event::Reloaded&) { reloaded(); },
                   [&](const event::StoreState&) {},
                   [&](const auto& device_event) {
                     publish_device(device_event.room, device_event.device);
                   },
               },
               e);
  }

  std::set<std::string> discovery_topics() const {
    std::set<std::string> topics;
    for (const auto& m : discovery_messages(config_(), hub_.status(), settings_))
      topics.insert(m.topic);
    return topics;
  }

  // Publishes the discovery again when its set of entities changed, and
  // deletes (empty retained config) those that are gone.
  void refresh_discovery() {
    auto now = discovery_topics();
    if (now == discovery_) return;
    for (const auto& topic : discovery_)
      if (!now.count(topic)) publish_state(topic, "");
    discovery_ = std::move(now);
    if (!conn_.connected()) return;
    for (const auto& m : discovery_messages(config_(), hub_.status(), settings_))
      publish_state(m.topic, m.payload);
  }

  void reloaded() {
    // Rooms and devices that left: their retained topics are cleared, so
    // that neither HA nor a subscriber sees a ghost.
    const auto before = layout_;
    remember_layout();
    for (const auto& [room, devices] : before) {
      const auto now = layout_.find(room);
      if (now == layout_.end()) publish_state(topics_.routine(room), "");
      for (const auto& device : devices)
        if (now == layout_.end() || !now->second.count(device)) {
          publish_state(topics_.device(room, device), "");
          publish_state(topics_.light(room, device), "");
        }
    }
    refresh_discovery();
    if (conn_.connected()) publish_all();
  }

  void remember_layout() {
    layout_.clear();
    const auto& cfg = config_();
    for (const auto& room : cfg.rooms) layout_[room.id];
    for (const auto& d : cfg.devices) layout_[d.room].insert(d.id);
  }

  // A retained config of this hub's node that is not one of its entities:
  // an entity of a device removed while the hub was not running.
  void stale_discovery(const PubSubMessage& m) {
    if (!m.retained || m.payload.empty() || discovery_.count(m.topic)) return;
    log_.info("deleting the Home Assistant entity {} (no longer in the config)", m.topic);
    publish_state(m.topic, "");
  }

  void birth(const PubSubMessage& m) {
    if (m.payload != "online" || birth_alarm_->pending()) return;
    std::uniform_int_distribution<long long> pick(kBirthDelayMin.count(), kBirthDelayMax.count());
    const Duration delay{pick(random_)};
    log_.info("Home Assistant is online: discovery again in {} ms", delay.count());
    birth_alarm_->set(clock_.now() + delay, [this] { publish_all(); });
  }

  // --- commands ------------------------------------------------------------

  void command(const PubSubMessage& m) {
    if (m.retained) {
      reject(m.topic, Error{"retained_command",
                            "a retained command is ignored: it is the broker's old copy, not a "
                            "request made now (publish commands without the retain flag, and "
                            "clear this one with an empty retained message)",
                            400});
      return;
    }
    if (!is_valid_utf8(m.payload)) {
      reject(m.topic, Error{"invalid_utf8", "the payload is not valid UTF-8 text", 400});
      return;
    }
    auto topic = parse_command_topic(topics_, m.topic);
    if (!topic) return reject(m.topic, topic.error());
    if (topic->kind == CommandKind::Routine) {
      auto request = parse_routine_payload(m.payload);
      if (!request) return reject(m.topic, request.error());
      auto result = hub_.routine(topic->room, *request);
      if (!result) return reject(m.topic, result.error());
      log_.info("{}: {} {}", topic->room, routine_action_name(request->action),
                request->routine.value_or(""));
      return;
    }
    auto request = topic->kind == CommandKind::Light ? parse_light_payload(m.payload)
                                                     : parse_device_payload(m.payload);
    if (!request) return reject(m.topic, request.error());
    auto result = hub_.set_device(topic->room, topic->device, *request);
    if (!result) return reject(m.topic, result.error());
    conn_.publish(topics_.device_result(topic->room, topic->device), dump_json(to_json(*result)),
                  {settings_.qos, false, PublishKind::State});
  }

  void oversize(const std::string& topic, std::size_t size, bool retained) {
    if (!topic.starts_with(settings_.base_topic + "/")) {
      log_.warning("{}: a message of {} bytes is over max_payload ({}) and was dropped", topic,
                   size, settings_.max_payload);
      return;
    }
    reject(topic, Error{"payload_too_large",
                        fmt::format("the payload has {} bytes, more than max_payload ({}){}", size,
                                    settings_.max_payload,
                                    retained ? " (a retained message, ignored)" : ""),
                        413});
  }

  // Every refused message: one line in the log and one on <base>/error.
  void reject(const std::string& topic, const Error& error) {
    log_.warning("{}: refused ({}): {}", topic, error.code, error.message);
    conn_.publish(topics_.error(), error_payload(topic, error),
                  {settings_.qos, false, PublishKind::State});
  }

  Clock& clock_;
  Connection& conn_;
  HubApi& hub_;
  std::function<const config::Config&()> config_;
  config::MqttConfig settings_;
  Logger log_;
  Topics topics_;
  std::unique_ptr<Alarm> birth_alarm_;
  std::minstd_rand random_;
  std::set<std::string> discovery_;                      // the config topics of the entities now
  std::map<std::string, std::set<std::string>> layout_;  // room -> devices, as configured
  std::vector<std::unique_ptr<PubSub::Handle>> subscriptions_;
  std::unique_ptr<PubSub::Handle> watch_;
  Subscription events_;
};

Bridge::Bridge(Clock& clock, Connection& connection, HubApi& hub, HubEvents& events,
               std::function<const config::Config&()> config, config::MqttConfig settings,
               Logger log)
    : impl_(std::make_unique<Impl>(clock, connection, hub, events, std::move(config),
                                   std::move(settings), std::move(log))) {}

Bridge::~Bridge() = default;

const config::MqttConfig& Bridge::settings() const { return impl_->settings(); }

}  // namespace nursery::mqtt::bridge
