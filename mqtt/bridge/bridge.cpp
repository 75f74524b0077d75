#include "mqtt/bridge/bridge.hpp"

#include "mqtt/bridge/client_options.hpp"

namespace nursery::mqtt::bridge {

class Bridge::Impl {
 public:
  Impl(Clock& clock, Connection& connection, HubApi& hub, HubEvents& events,
       std::function<const config::Config&()> config, config::MqttConfig settings, Logger log)
      : clock_(clock),
        conn_(connection),
        hub_(hub),
        events_(events),
        config_(std::move(config)),
        settings_(std::move(settings)),
        log_(std::move(log)) {
    watch_ = conn_.watch_connection([this](bool up) {
      if (up) on_connected();
    });
  }

  const config::MqttConfig& settings() const { return settings_; }

 private:
  void on_connected() {
    log_.info("connected: publishing the hub's status, state and discovery");
    conn_.publish(status_topic(settings_), "online", {1, true, PublishKind::State});
  }

  Clock& clock_;
  Connection& conn_;
  HubApi& hub_;
  HubEvents& events_;
  std::function<const config::Config&()> config_;
  config::MqttConfig settings_;
  Logger log_;
  std::unique_ptr<PubSub::Handle> watch_;
};

Bridge::Bridge(Clock& clock, Connection& connection, HubApi& hub, HubEvents& events,
               std::function<const config::Config&()> config, config::MqttConfig settings,
               Logger log)
    : impl_(std::make_unique<Impl>(clock, connection, hub, events, std::move(config),
                                   std::move(settings), std::move(log))) {}

Bridge::~Bridge() = default;

const config::MqttConfig& Bridge::settings() const { return impl_->settings(); }

}  // namespace nursery::mqtt::bridge
