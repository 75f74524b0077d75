#include "field_device.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace nursery::plugins::mqtt_common {
namespace {

// "30" -> 30 (a JSON number), "true" -> true, anything else a string.
nlohmann::json device_word(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && end == text.c_str() + text.size()) return n;
  return text;
}

std::string as_word(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

}  // namespace

FieldDevice::FieldDevice(const config::DeviceConfig& config, DeviceHost& host, MqttCommon common,
                         FieldDeviceSettings settings, std::string driver)
    : MqttDevice(config, host, std::move(common)),
      settings_(std::move(settings)),
      driver_(std::move(driver)) {
  if (!settings_.state_topic.empty())
    listen(settings_.state_topic, [this](const PubSubMessage& m) { on_state(m); });
}

std::optional<Level> DeviceValues::*FieldDevice::level_member() const {
  return settings_.capability == Capability::Sound ? &DeviceValues::volume
                                                   : &DeviceValues::intensity;
}
std::optional<std::string> DeviceValues::*FieldDevice::token_member() const {
  return settings_.capability == Capability::Sound ? &DeviceValues::track : &DeviceValues::pattern;
}

std::string FieldDevice::command_payload(const DeviceCommand& command) const {
  const DeviceValues& v = command.values;
  std::vector<std::pair<std::string, nlohmann::json>> fields;
  if (const auto& on = v.on(settings_.capability); on && !settings_.on_field.empty())
    fields.emplace_back(settings_.on_field,
                        device_word(*on ? settings_.on_value : settings_.off_value));
  if (v.on(settings_.capability) != false) {
    if (const auto& level = v.*level_member(); level && !settings_.level_field.empty())
      fields.emplace_back(settings_.level_field, level_to_scale(*level, settings_.level_scale));
    if (const auto& token = v.*token_member(); token && !settings_.token_field.empty()) {
      auto it = settings_.token_values.find(*token);
      fields.emplace_back(settings_.token_field, it == settings_.token_values.end()
                                                     ? nlohmann::json(*token)
                                                     : device_word(it->second));
    }
    if (command.massage_session && !settings_.session_field.empty())
      fields.emplace_back(
          settings_.session_field,
          std::chrono::duration_cast<std::chrono::seconds>(*command.massage_session).count());
  }
  if (command.transition > Duration{0} && !settings_.transition_field.empty())
    fields.emplace_back(settings_.transition_field,
                        std::chrono::duration<double>(command.transition).count());
  if (settings_.backlog) {
    std::string out;
    for (const auto& [key, value] : fields)
      out += fmt::format("{}{} {}", out.empty() ? "" : "; ", key, as_word(value));
    return out;
  }
  nlohmann::json j = nlohmann::json::object();
  for (auto& [key, value] : fields) set_member(j, key, std::move(value));
  return j.dump();
}

std::vector<Outgoing> FieldDevice::encode(const DeviceCommand& command) {
  return {{settings_.command_topic, command_payload(command)}};
}

DeviceValues FieldDevice::expected(const DeviceCommand& command) {
  // What the device reports is what it was sent, on its own scale.
  DeviceValues out = command.values.only(bit(settings_.capability));
  if (settings_.on_field.empty()) on_of(out).reset();
  if (auto& level = out.*level_member(); level) {
    if (settings_.level_field.empty())
      level.reset();
    else
      level =
          level_from_scale(level_to_scale(*level, settings_.level_scale), settings_.level_scale);
  }
  if (settings_.token_field.empty()) (out.*token_member()).reset();
  return out;
}

std::optional<DeviceValues> FieldDevice::decode(const nlohmann::json& state,
                                                std::string* why) const {
  auto fail = [&](std::string reason) -> std::optional<DeviceValues> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  DeviceValues v;
  if (!settings_.on_field.empty())
    if (const auto* s = find_member(state, settings_.on_field); s && !s->is_null()) {
      auto on = json_switch(*s, settings_.on_value, settings_.off_value);
      if (!on)
        return fail(fmt::format("\"{}\" is {}, not \"{}\" or \"{}\"", settings_.on_field, s->dump(),
                                settings_.on_value, settings_.off_value));
      on_of(v) = on;
    }
  if (!settings_.level_field.empty())
    if (const auto* l = find_member(state, settings_.level_field); l && !l->is_null()) {
      auto n = json_number(*l);
      auto level = n ? level_from_scale(*n, settings_.level_scale) : std::nullopt;
      if (!level)
        return fail(fmt::format("\"{}\" is {}, not a number from 0 to {}", settings_.level_field,
                                l->dump(), settings_.level_scale));
      v.*level_member() = level;
    }
  if (!settings_.token_field.empty())
    if (const auto* t = find_member(state, settings_.token_field); t && !t->is_null()) {
      const std::string word = as_word(*t);
      std::optional<std::string> token;
      for (const auto& [ours, theirs] : settings_.token_values)
        if (theirs == word) token = ours;
      if (!token && settings_.token_values.empty() && !check_token("value", word)) token = word;
      // A track or pattern the hub has no name for is left out, not refused:
      // the rest of the state still holds.
      if (token) v.*token_member() = token;
    }
  return v;
}

void FieldDevice::on_state(const PubSubMessage& message) {
  auto object = parse_object(message.payload);
  if (!object) {
    bad_payload(message, "a state payload is a JSON object");
    return;
  }
  std::string why;
  auto v = decode(*object, &why);
  if (!v) {
    bad_payload(message, why);
    return;
  }
  good_payload(message.topic);
  observed(*v);
}

// --- config -----------------------------------------------------------------

void check_generic_common(Checker& check) { check.topic("availability_topic"); }

MqttCommon read_generic_common(const config::DeviceConfig& device, bool has_state_topic) {
  MqttCommon c = read_common(device);
  c.availability_topic = string_option(device, "availability_topic");
  c.payload_available = string_option(device, "payload_available", c.payload_available);
  c.payload_not_available = string_option(device, "payload_not_available", c.payload_not_available);
  c.confirm_by_state = has_state_topic;
  return c;
}

std::vector<config::Diagnostic> validate_field_device(const config::DeviceConfig& device,
                                                      const FieldDeviceKeys& keys) {
  Checker check(device);
  check.topic("command_topic");
  check.topic("state_topic");
  check_generic_common(check);
  check.one_of("command_format", {"json", "backlog"});
  check.range(fmt::format("{}_scale", keys.level), 1, 1000000);
  check.value_map(fmt::format("{}_values", keys.token));
  return check.take();
}

FieldDeviceSettings read_field_device(const config::DeviceConfig& device,
                                      const FieldDeviceKeys& keys) {
  FieldDeviceSettings s;
  s.capability = keys.capability;
  s.command_topic = string_option(device, "command_topic");
  s.state_topic = string_option(device, "state_topic");
  s.backlog = string_option(device, "command_format", "json") == "backlog";
  s.on_field = string_option(device, "on_field", s.on_field);
  s.on_value = string_option(device, "on_value", s.on_value);
  s.off_value = string_option(device, "off_value", s.off_value);
  s.level_field =
      string_option(device, fmt::format("{}_field", keys.level), std::string(keys.level));
  s.level_scale =
      static_cast<int>(integer_option(device, fmt::format("{}_scale", keys.level), 100));
  s.token_field =
      string_option(device, fmt::format("{}_field", keys.token), std::string(keys.token));
  if (auto map = parse_value_map(string_option(device, fmt::format("{}_values", keys.token))))
    s.token_values = std::move(*map);
  s.transition_field = string_option(device, "transition_field");
  if (keys.session) s.session_field = string_option(device, "session_field");
  return s;
}

}  // namespace nursery::plugins::mqtt_common
