#pragma once
// Lights on the far side of a real broker, as Zigbee2MQTT and Tasmota show
// them: each is its own MQTT client (nursery::mqtt::Client on the test's
// loop), takes the commands the real thing takes, fades over the time it is
// given, and publishes state the way the real thing does. Test hooks do what
// a person or the power does: a wall switch, going out of reach, coming back.
// Thread: the test's loop. Throws only from the constructor (bad options).

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/clock.hpp"
#include "daemon/log.hpp"
#include "mqtt/client.hpp"

namespace nursery::testing {

// A level moving linearly from `from` to `to` over [start, end].
struct Ramp {
  double from = 0;
  double to = 0;
  TimePoint start;
  TimePoint end;
  double at(TimePoint t) const;
  bool moving(TimePoint t) const { return t < end; }
};

class SimulatedLightBase {
 public:
  SimulatedLightBase(boost::asio::io_context& io, Clock& clock, LogSink& sink,
                     const std::string& uri, std::string client_id);
  virtual ~SimulatedLightBase();
  bool connected() const { return client_->connected(); }
  // Out of reach: says so on its LWT topic and hears nothing.
  void go_offline();
  void come_online();
  bool online() const { return online_; }

  bool on() const { return on_; }
  // The brightness now, 0..1 of its range, mid-fade included.
  double brightness() const { return level_.at(clock_.now()); }
  int color_temp_mireds() const { return mireds_; }
  // The highest brightness it ever had, for the night limit.
  double peak_brightness() const { return peak_; }
  std::size_t commands() const { return commands_; }

 protected:
  virtual void announce(bool online) = 0;
  void publish(const std::string& topic, const std::string& payload, bool retain = false);
  void set_level(double to, Duration over);
  void subscribe(std::string filter, std::function<void(const PubSubMessage&)> handler);

  Clock& clock_;
  std::unique_ptr<mqtt::Client> client_;
  std::vector<std::unique_ptr<PubSub::Handle>> handles_;
  std::unique_ptr<Alarm> fade_end_;
  std::unique_ptr<Alarm> halfway_;
  bool online_ = true;
  bool on_ = false;
  Ramp level_;
  int mireds_ = 370;
  double peak_ = 0;
  std::size_t commands_ = 0;
};

// A Zigbee bulb behind Zigbee2MQTT: <base>/<name>/set, state on <base>/<name>
// published at once with the target (as Zigbee2MQTT does), then halfway
// through a fade and at its end (as a bulb's attribute reports), and
// availability on <base>/<name>/availability, JSON (2.x) or plain (1.x).
class SimulatedZigbeeLight final : public SimulatedLightBase {
 public:
  SimulatedZigbeeLight(boost::asio::io_context& io, Clock& clock, LogSink& sink,
                       const std::string& uri, std::string base, std::string name,
                       bool json_availability = true);
  void start();
  // Someone presses the wall switch (or the bulb's own button).
  void switch_by_hand(bool on);
  // Power lost and back while out of reach: off, and nobody is told.
  void lose_power_silently();
  std::string topic() const { return topic_; }

 private:
  void announce(bool online) override;
  void on_set(const PubSubMessage& m);
  void publish_state();
  std::string topic_;
  bool json_availability_;
};

// A Tasmota CCT bulb: cmnd/<t>/Backlog (and cmnd/<t>/State), one
// stat/<t>/RESULT per command of a Backlog, tele/<t>/STATE after a fade,
// retained tele/<t>/LWT Online/Offline. Fade 1 with Speed n fades the full
// range in n/2 s, a part of it in that part.
class SimulatedTasmotaLight final : public SimulatedLightBase {
 public:
  SimulatedTasmotaLight(boost::asio::io_context& io, Clock& clock, LogSink& sink,
                        const std::string& uri, std::string topic);
  void start();
  void switch_by_hand(bool on);
  int dimmer() const;  // 0..100 now

 private:
  void announce(bool online) override;
  void on_backlog(const PubSubMessage& m);
  std::string state_json(bool with_wifi) const;
  std::string topic_;
  bool fade_ = false;
  int speed_ = 1;
};

}  // namespace nursery::testing
