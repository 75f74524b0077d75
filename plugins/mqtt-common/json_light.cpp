#include "json_light.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace nursery::plugins::mqtt_common {

JsonLight::JsonLight(const config::DeviceConfig& config, DeviceHost& host, MqttCommon common,
                     JsonLightSettings settings, std::string driver)
    : MqttDevice(config, host, std::move(common)),
      settings_(std::move(settings)),
      driver_(std::move(driver)) {
  if (!settings_.state_topic.empty())
    listen(settings_.state_topic, [this](const PubSubMessage& m) { on_state(m); });
}

int JsonLight::color_value(int kelvin) const {
  const int k = std::clamp(kelvin, settings_.min_kelvin, settings_.max_kelvin);
  return settings_.color_temp_kelvin ? k : kelvin_to_mireds(k);
}

int JsonLight::kelvin_of(int value) const {
  return settings_.color_temp_kelvin ? value : mireds_to_kelvin(value);
}

nlohmann::json JsonLight::command_json(const DeviceCommand& command) const {
  const DeviceValues& v = command.values;
  nlohmann::json j = nlohmann::json::object();
  if (v.light_on) j["state"] = *v.light_on ? "ON" : "OFF";
  if (v.light_on != false) {
    if (v.brightness)
      j["brightness"] = level_to_scale(*v.brightness, settings_.brightness_scale, true);
    if (v.color_temp && settings_.color_temp) j["color_temp"] = color_value(*v.color_temp);
  }
  if (settings_.native_transition && command.transition > Duration{0})
    j["transition"] = std::chrono::duration<double>(command.transition).count();
  return j;
}

std::vector<Outgoing> JsonLight::encode(const DeviceCommand& command) {
  return {{settings_.command_topic, command_json(command).dump()}};
}

DeviceValues JsonLight::expected(const DeviceCommand& command) {
  DeviceValues out;
  const auto j = command_json(command);
  if (auto d = decode(j, nullptr)) out = d->values;
  return out;
}

std::optional<JsonLight::Decoded> JsonLight::decode(const nlohmann::json& state,
                                                    std::string* why) const {
  auto fail = [&](std::string reason) -> std::optional<Decoded> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  Decoded d;
  if (const auto* s = find_member(state, "state"); s && !s->is_null()) {
    auto on = json_switch(*s);
    if (!on) return fail(fmt::format("\"state\" is {}, not \"ON\" or \"OFF\"", s->dump()));
    d.values.light_on = on;
  }
  if (const auto* b = find_member(state, "brightness"); b && !b->is_null()) {
    auto n = b->is_number() ? std::optional<double>(b->get<double>()) : std::nullopt;
    auto level = n ? level_from_scale(*n, settings_.brightness_scale) : std::nullopt;
    if (!level)
      return fail(fmt::format("\"brightness\" is {}, not a number from 0 to {}", b->dump(),
                              settings_.brightness_scale));
    d.values.brightness = level;
  }
  if (const auto* c = find_member(state, "color_temp");
      c && !c->is_null() && settings_.color_temp) {
    const bool number = c->is_number() && c->get<double>() >= 1 && c->get<double>() <= 1e6;
    const int kelvin = number ? kelvin_of(static_cast<int>(std::lround(c->get<double>()))) : 0;
    if (!number || kelvin < kMinColorTemp || kelvin > kMaxColorTemp)
      return fail(fmt::format("\"color_temp\" is {}, not a colour temperature in {}", c->dump(),
                              settings_.color_temp_kelvin ? "kelvin" : "mireds"));
    d.values.color_temp = kelvin;
  }
  if (const auto* q = find_member(state, "linkquality"); q && q->is_number()) {
    const double lq = q->get<double>();
    if (lq >= 0 && lq <= 255) d.link_quality = static_cast<int>(std::lround(lq * 100.0 / 255.0));
  }
  if (const auto* b = find_member(state, "battery"); b && b->is_number()) {
    const double pct = b->get<double>();
    if (pct >= 0 && pct <= 100) d.battery = static_cast<int>(std::lround(pct));
  }
  return d;
}

void JsonLight::on_state(const PubSubMessage& message) {
  auto object = parse_object(message.payload);
  if (!object) {
    bad_payload(message, "a state payload is a JSON object");
    return;
  }
  std::string why;
  auto d = decode(*object, &why);
  if (!d) {
    bad_payload(message, why);
    return;
  }
  good_payload(message.topic);
  if (d->link_quality) host_.link_quality(*d->link_quality);
  if (d->battery) host_.battery(*d->battery);
  observed(d->values);
}

void JsonLight::on_link_up() {
  if (!settings_.get_topic.empty()) publish({settings_.get_topic, settings_.get_payload});
}

}  // namespace nursery::plugins::mqtt_common
