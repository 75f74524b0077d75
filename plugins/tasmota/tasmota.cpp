// A Tasmota light (a dimmer or a CCT bulb). Commands are one
// cmnd/<topic>/Backlog: "Fade 1; Speed 8; CT 454; Dimmer 10; Power ON"
// (Dimmer 0..100 %, CT 153..500 mireds, Speed the time of a full 0..100 %
// fade in half seconds, 1..40). Its state comes from stat/<topic>/RESULT (the
// answer to each command, one per command of a Backlog, merged here) and
// tele/<topic>/STATE (periodic, with Wifi.RSSI for the link quality); its
// availability from the retained LWT tele/<topic>/LWT, "Online"/"Offline".
// On every connect and when it comes back the driver asks cmnd/<topic>/State.
//
// Speed caps a native fade at 20 s for the full range, so by default the
// hub steps fades in software (native_transition = false) and each step is
// sent with Fade 0; with native_transition = true short fades are the
// device's own, longer ones are cut to what Speed allows.

#include "tasmota.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "plugins/mqtt-common/mqtt_common.hpp"

namespace nursery::plugins::tasmota {
namespace {

using namespace mqtt_common;

constexpr int kMinCt = 153;
constexpr int kMaxCt = 500;

constexpr config::DriverOptionSpec kOptions[] = {
    {"topic", config::OptionType::String, true},
    {"color_temp", config::OptionType::Bool, false},
    {"native_transition", config::OptionType::Bool, false},
    kConfirmTimeoutOption,
};

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  Checker check(device);
  check.topic_part("topic", true);
  return check.take();
}

Capabilities capabilities(const config::DeviceConfig&) { return bit(Capability::Light); }

constexpr config::DriverSpec kSpec{"tasmota", kOptions, &validate, &capabilities};

class TasmotaLight final : public MqttDevice {
 public:
  TasmotaLight(const config::DeviceConfig& config, DeviceHost& host, MqttCommon common,
               std::string topic, bool color_temp, bool native)
      : MqttDevice(config, host, std::move(common)),
        topic_(std::move(topic)),
        color_temp_(color_temp),
        native_(native) {
    listen(fmt::format("stat/{}/RESULT", topic_), [this](const PubSubMessage& m) { on_state(m); });
    listen(fmt::format("tele/{}/STATE", topic_), [this](const PubSubMessage& m) { on_state(m); });
  }
  std::string_view driver() const override { return "tasmota"; }
  Capabilities capabilities() const override { return bit(Capability::Light); }
  bool native_transition(Capability c) const override { return c == Capability::Light && native_; }

 protected:
  std::vector<Outgoing> encode(const DeviceCommand& command) override {
    const DeviceValues& v = command.values;
    std::vector<std::string> parts;
    if (native_ && command.transition > Duration{0}) {
      parts.push_back("Fade 1");
      parts.push_back(fmt::format("Speed {}", speed(command)));
    } else {
      parts.push_back("Fade 0");
    }
    if (v.light_on != false) {
      if (v.color_temp && color_temp_) parts.push_back(fmt::format("CT {}", ct(*v.color_temp)));
      if (v.brightness)
        parts.push_back(fmt::format("Dimmer {}", level_to_scale(*v.brightness, 100, true)));
    }
    if (v.light_on) parts.push_back(*v.light_on ? "Power ON" : "Power OFF");
    std::string payload;
    for (const auto& p : parts) payload += fmt::format("{}{}", payload.empty() ? "" : "; ", p);
    return {{fmt::format("cmnd/{}/Backlog", topic_), payload}};
  }

  DeviceValues expected(const DeviceCommand& command) override {
    const DeviceValues& v = command.values;
    DeviceValues out;
    out.light_on = v.light_on;
    if (v.light_on != false) {
      if (v.brightness)
        out.brightness = level_from_scale(level_to_scale(*v.brightness, 100, true), 100);
      if (v.color_temp && color_temp_) out.color_temp = mireds_to_kelvin(ct(*v.color_temp));
    }
    return out;
  }

  void on_link_up() override { publish({fmt::format("cmnd/{}/State", topic_), ""}); }

 private:
  static int ct(int kelvin) { return std::clamp(kelvin_to_mireds(kelvin), kMinCt, kMaxCt); }

  // Speed n fades the full 0..100 % in n/2 s, a part of it in that part.
  int speed(const DeviceCommand& command) const {
    int span = 100;
    if (command.values.brightness && brightness_)
      span = std::max(1, std::abs(level_to_scale(*command.values.brightness, 100) -
                                  level_to_scale(*brightness_, 100)));
    const double seconds = std::chrono::duration<double>(command.transition).count();
    return std::clamp(static_cast<int>(std::lround(2.0 * seconds * 100.0 / span)), 1, 40);
  }

  void on_state(const PubSubMessage& message) {
    auto object = parse_object(message.payload);
    if (!object) {
      bad_payload(message, "a Tasmota state payload is a JSON object");
      return;
    }
    DeviceValues v;
    std::string why;
    if (const auto* p = find_member(*object, "POWER")) {
      v.light_on = json_switch(*p);
      if (!v.light_on) why = fmt::format("\"POWER\" is {}, not \"ON\" or \"OFF\"", p->dump());
    }
    if (const auto* d = find_member(*object, "Dimmer"); d && why.empty()) {
      auto n = d->is_number() ? std::optional<double>(d->get<double>()) : std::nullopt;
      v.brightness = n ? level_from_scale(*n, 100) : std::nullopt;
      if (!v.brightness)
        why = fmt::format("\"Dimmer\" is {}, not a number from 0 to 100", d->dump());
    }
    if (const auto* c = find_member(*object, "CT"); c && why.empty() && color_temp_) {
      const bool ok = c->is_number() && c->get<double>() >= kMinCt && c->get<double>() <= kMaxCt;
      if (ok)
        v.color_temp = mireds_to_kelvin(static_cast<int>(std::lround(c->get<double>())));
      else
        why = fmt::format("\"CT\" is {}, not mireds from {} to {}", c->dump(), kMinCt, kMaxCt);
    }
    if (!why.empty()) {
      bad_payload(message, why);
      return;
    }
    good_payload(message.topic);
    if (const auto* rssi = find_member(*object, "Wifi.RSSI"); rssi && rssi->is_number()) {
      const double pct = rssi->get<double>();
      if (pct >= 0 && pct <= 100) host_.link_quality(static_cast<int>(std::lround(pct)));
    }
    if (v.brightness) brightness_ = v.brightness;
    observed(v);
  }

  std::string topic_;
  bool color_temp_;
  bool native_;
  std::optional<Level> brightness_;  // the last reported, for Speed
};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment&) {
  const std::string topic = string_option(config, "topic");
  MqttCommon common = read_common(config);
  common.availability_topic = fmt::format("tele/{}/LWT", topic);
  common.payload_available = "Online";
  common.payload_not_available = "Offline";
  common.speaker = "Tasmota";
  return std::unique_ptr<Device>(std::make_unique<TasmotaLight>(
      config, host, std::move(common), topic, bool_option(config, "color_temp", true),
      bool_option(config, "native_transition", false)));
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, nullptr};

}  // namespace nursery::plugins::tasmota
