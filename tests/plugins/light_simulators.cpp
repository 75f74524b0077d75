#include "light_simulators.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace nursery::testing {

using nlohmann::json;

double Ramp::at(TimePoint t) const {
  if (t >= end || end <= start) return to;
  if (t <= start) return from;
  const double f = std::chrono::duration<double>(t - start) / (end - start);
  return from + (to - from) * f;
}

SimulatedLightBase::SimulatedLightBase(boost::asio::io_context& io, Clock& clock, LogSink& sink,
                                       const std::string& uri, std::string client_id)
    : clock_(clock), fade_end_(clock.make_alarm()), halfway_(clock.make_alarm()) {
  mqtt::Options o;
  o.uri = uri;
  o.client_id = std::move(client_id);
  o.reconnect_min = std::chrono::milliseconds(100);
  o.reconnect_max = std::chrono::milliseconds(500);
  client_ = std::make_unique<mqtt::Client>(io, Logger(sink, "sim"), o);
}

SimulatedLightBase::~SimulatedLightBase() {
  handles_.clear();
  client_.reset();
}

void SimulatedLightBase::publish(const std::string& topic, const std::string& payload,
                                 bool retain) {
  client_->publish(topic, payload, PublishOptions{1, retain, PublishKind::State});
}

void SimulatedLightBase::subscribe(std::string filter,
                                   std::function<void(const PubSubMessage&)> handler) {
  handles_.push_back(client_->subscribe(std::move(filter), std::move(handler)));
}

void SimulatedLightBase::set_level(double to, Duration over) {
  const TimePoint now = clock_.now();
  level_ = Ramp{brightness(), to, now, now + over};
  peak_ = std::max(peak_, to);
}

void SimulatedLightBase::go_offline() {
  online_ = false;
  announce(false);
}

void SimulatedLightBase::come_online() {
  online_ = true;
  announce(true);
}

// --- Zigbee2MQTT --------------------------------------------------------------

SimulatedZigbeeLight::SimulatedZigbeeLight(boost::asio::io_context& io, Clock& clock, LogSink& sink,
                                           const std::string& uri, std::string base,
                                           std::string name, bool json_availability)
    : SimulatedLightBase(io, clock, sink, uri, "sim-zigbee2mqtt"),
      topic_(base + "/" + name),
      json_availability_(json_availability) {}

void SimulatedZigbeeLight::start() {
  subscribe(topic_ + "/set", [this](const PubSubMessage& m) { on_set(m); });
  subscribe(topic_ + "/get", [this](const PubSubMessage&) {
    if (online_) publish_state();
  });
  client_->start();
  announce(true);
}

void SimulatedZigbeeLight::announce(bool online) {
  const char* word = online ? "online" : "offline";
  publish(topic_ + "/availability",
          json_availability_ ? fmt::format(R"({{"state":"{}"}})", word) : std::string(word), true);
}

void SimulatedZigbeeLight::publish_state() {
  json j{{"state", on_ ? "ON" : "OFF"},
         {"brightness", static_cast<int>(std::lround(brightness() * 254))},
         {"color_temp", mireds_},
         {"linkquality", 180}};
  publish(topic_, j.dump());
}

void SimulatedZigbeeLight::on_set(const PubSubMessage& m) {
  if (!online_) return;  // out of reach: the command never arrives
  ++commands_;
  const json j = json::parse(m.payload, nullptr, false);
  if (!j.is_object()) return;
  const double seconds = j.value("transition", 0.0);
  const Duration over{static_cast<Duration::rep>(seconds * 1000)};
  if (j.contains("state")) on_ = j["state"] == "ON";
  if (j.contains("brightness")) {
    on_ = true;
    set_level(j["brightness"].get<double>() / 254.0, over);
  }
  if (j.contains("color_temp")) mireds_ = j["color_temp"].get<int>();
  // Zigbee2MQTT publishes the new state at once, target values included...
  const double target = level_.to;
  json now{{"state", on_ ? "ON" : "OFF"},
           {"brightness", static_cast<int>(std::lround(target * 254))},
           {"color_temp", mireds_},
           {"linkquality", 180}};
  publish(topic_, now.dump());
  if (over <= Duration{0}) return;
  // ... and the bulb reports where it is on the way, and at the end.
  halfway_->set(clock_.now() + over / 2, [this] { publish_state(); });
  fade_end_->set(clock_.now() + over, [this] { publish_state(); });
}

void SimulatedZigbeeLight::switch_by_hand(bool on) {
  on_ = on;
  halfway_->cancel();
  fade_end_->cancel();
  level_ = Ramp{brightness(), brightness(), clock_.now(), clock_.now()};
  publish_state();
}

void SimulatedZigbeeLight::lose_power_silently() {
  on_ = false;
  halfway_->cancel();
  fade_end_->cancel();
}

// --- Tasmota ----------------------------------------------------------------

SimulatedTasmotaLight::SimulatedTasmotaLight(boost::asio::io_context& io, Clock& clock,
                                             LogSink& sink, const std::string& uri,
                                             std::string topic)
    : SimulatedLightBase(io, clock, sink, uri, "sim-tasmota"), topic_(std::move(topic)) {
  mireds_ = 300;
}

void SimulatedTasmotaLight::start() {
  subscribe("cmnd/" + topic_ + "/Backlog", [this](const PubSubMessage& m) { on_backlog(m); });
  subscribe("cmnd/" + topic_ + "/State", [this](const PubSubMessage&) {
    if (online_) publish("stat/" + topic_ + "/RESULT", state_json(true));
  });
  client_->start();
  announce(true);
}

void SimulatedTasmotaLight::announce(bool online) {
  publish("tele/" + topic_ + "/LWT", online ? "Online" : "Offline", true);
}

int SimulatedTasmotaLight::dimmer() const {
  return static_cast<int>(std::lround(brightness() * 100));
}

std::string SimulatedTasmotaLight::state_json(bool with_wifi) const {
  json j{{"POWER", on_ ? "ON" : "OFF"},
         {"Dimmer", static_cast<int>(std::lround(level_.to * 100))},
         {"CT", mireds_},
         {"Fade", fade_ ? "ON" : "OFF"},
         {"Speed", speed_}};
  if (with_wifi) j["Wifi"] = json{{"AP", 1}, {"SSId", "home"}, {"RSSI", 72}, {"Signal", -64}};
  return j.dump();
}

void SimulatedTasmotaLight::on_backlog(const PubSubMessage& m) {
  if (!online_) return;
  ++commands_;
  std::string_view rest = m.payload;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    std::string_view cmd = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    while (!cmd.empty() && cmd.front() == ' ') cmd.remove_prefix(1);
    const auto space = cmd.find(' ');
    const std::string name(cmd.substr(0, space));
    const std::string arg(space == std::string_view::npos ? "" : cmd.substr(space + 1));
    json result;
    if (name == "Fade") {
      fade_ = arg == "1" || arg == "ON";
      result = {{"Fade", fade_ ? "ON" : "OFF"}};
    } else if (name == "Speed") {
      speed_ = std::clamp(std::stoi(arg), 1, 40);
      result = {{"Speed", speed_}};
    } else if (name == "CT") {
      mireds_ = std::clamp(std::stoi(arg), 153, 500);
      result = {{"POWER", on_ ? "ON" : "OFF"}, {"Dimmer", dimmer()}, {"CT", mireds_}};
    } else if (name == "Dimmer") {
      const int to = std::clamp(std::stoi(arg), 0, 100);
      const int span = std::abs(to - dimmer());
      const Duration over =
          fade_ ? Duration{static_cast<Duration::rep>(speed_ * 500.0 * span / 100.0)} : Duration{0};
      set_level(to / 100.0, over);
      on_ = to > 0;
      result = {{"POWER", on_ ? "ON" : "OFF"}, {"Dimmer", to}, {"CT", mireds_}};
      if (over > Duration{0})
        fade_end_->set(clock_.now() + over,
                       [this] { publish("tele/" + topic_ + "/STATE", state_json(true)); });
    } else if (name == "Power") {
      on_ = arg == "ON" || arg == "1";
      result = {{"POWER", on_ ? "ON" : "OFF"}};
    } else {
      result = {{"Command", "Unknown"}};
    }
    publish("stat/" + topic_ + "/RESULT", result.dump());
  }
}

void SimulatedTasmotaLight::switch_by_hand(bool on) {
  on_ = on;
  fade_end_->cancel();
  publish("stat/" + topic_ + "/RESULT", json{{"POWER", on ? "ON" : "OFF"}}.dump());
}

}  // namespace nursery::testing
