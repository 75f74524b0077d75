#include "mqtt/bridge/discovery.hpp"

#include <fmt/format.h>

#include <bit>
#include <set>

#include "daemon/api_json/api_json.hpp"
#include "daemon/version.hpp"

namespace nursery::mqtt::bridge {
namespace {

using json = nlohmann::json;

std::string sanitize(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

// Builds the messages of one hub; each add() is one entity.
class Builder {
 public:
  Builder(const config::Config& config, const config::MqttConfig& settings)
      : config_(config),
        settings_(settings),
        topics_{settings.base_topic},
        node_(discovery_node_id(settings)) {}

  void hub_device() {
    hub_block_ = json{{"identifiers", json::array({"nursery_" + node_})},
                      {"name", config_.hub.name},
                      {"manufacturer", "nursery-hub"},
                      {"model", "nurseryd"},
                      {"sw_version", kVersion}};
    // The hub's own entity, so that HA has the device the rooms and
    // devices are "via"; it is the availability itself, so it has none.
    add("binary_sensor", "hub_status", hub_block_, nullptr,
        {{"name", "Hub connected"},
         {"state_topic", topics_.status()},
         {"payload_on", "online"},
         {"payload_off", "offline"},
         {"device_class", "connectivity"},
         {"entity_category", "diagnostic"}});
  }

  void room(const config::RoomConfig& room) {
    const json device{
        {"identifiers", json::array({fmt::format("nursery_{}_room_{}", node_, room.id)})},
        {"name", room.name},
        {"manufacturer", "nursery-hub"},
        {"model", "Nursery room"},
        {"suggested_area", room.name},
        {"via_device", "nursery_" + node_}};
    const json availability = json::array({hub_availability()});
    const auto set = topics_.routine_set(room.id);
    const auto state = topics_.routine(room.id);
    for (auto [action, label, icon] : {std::tuple{"start", "Start routine", "mdi:play"},
                                       std::tuple{"stop", "Stop routine", "mdi:stop"},
                                       std::tuple{"pause", "Pause routine", "mdi:pause"},
                                       std::tuple{"resume", "Resume routine", "mdi:play-pause"},
                                       std::tuple{"skip", "Skip step", "mdi:skip-next"}}) {
      std::string press = action;
      for (auto& c : press) c = static_cast<char>(c - 'a' + 'A');
      add("button", room.id + "_" + action, device, availability,
          {{"name", label}, {"command_topic", set}, {"payload_press", press}, {"icon", icon}});
    }
    json options = json::array();
    for (const auto& r : config_.routines) options.push_back(r.id);
    add("select", room.id + "_routine", device, availability,
        {{"name", "Routine"},
         {"command_topic", set},
         {"command_template", R"({"action":"start","routine":"{{ value }}"})"},
         {"state_topic", state},
         {"value_template",
          fmt::format("{{{{ value_json.routine if value_json.routine else '{}' }}}}",
                      room.default_routine)},
         {"options", std::move(options)},
         {"icon", "mdi:playlist-play"}});
    add("sensor", room.id + "_routine_state", device, availability,
        {{"name", "Routine state"},
         {"state_topic", state},
         {"value_template", "{{ value_json.state }}"},
         {"device_class", "enum"},
         {"options", json::array({"idle", "running", "paused"})}});
    add("sensor", room.id + "_routine_step", device, availability,
        {{"name", "Current step"},
         {"state_topic", state},
         {"value_template",
          "{{ (value_json.step_index + 1) if value_json.state != 'idle' else None }}"},
         {"icon", "mdi:stairs"}});
    add("sensor", room.id + "_routine_ends_at", device, availability,
        {{"name", "Routine ends at"},
         {"state_topic", state},
         {"value_template", "{{ value_json.ends_at if value_json.ends_at else None }}"},
         {"device_class", "timestamp"}});
  }

  void managed(const config::DeviceConfig& d, const DeviceStatus* status) {
    const Capabilities caps = status ? status->capabilities : 0;
    const json device{
        {"identifiers", json::array({fmt::format("nursery_{}_device_{}", node_, d.id)})},
        {"name", d.name},
        {"manufacturer", "nursery-hub"},
        {"model", d.driver},
        {"suggested_area", room_name(d.room)},
        {"via_device", "nursery_" + node_}};
    const auto state = topics_.device(d.room, d.id);
    const json availability = json::array(
        {hub_availability(),
         json{{"topic", state},
              {"value_template", "{{ 'online' if value_json.available else 'offline' }}"}}});
    const std::string base = d.room + "_" + d.id;
    const bool flat = std::popcount(caps) == 1;
    auto path = [&](std::string_view capability) {
      return flat ? std::string("value_json.state")
                  : fmt::format("(value_json.state.{} | default({{}}))", capability);
    };
    auto command = [&](std::string_view capability, std::string_view field, std::string value) {
      return fmt::format(R"({{"{}":{{"{}":{}}}}})", capability, field, value);
    };
    const auto set = topics_.device_set(d.room, d.id);
    const auto& safety = config_.safety;
    if (has(caps, Capability::Light)) {
      add("light", base + "_light", device, availability,
          {{"name", json(nullptr)},
           {"schema", "json"},
           {"command_topic", topics_.light_set(d.room, d.id)},
           {"state_topic", topics_.light(d.room, d.id)},
           {"brightness", true},
           {"brightness_scale", kLightBrightnessScale},
           {"supported_color_modes", json::array({"color_temp"})},
           {"color_temp_kelvin", true},
           {"min_kelvin", 2000},
           {"max_kelvin", 6500}});
    }
    struct Part {
      Capability capability;
      std::string_view name;   // JSON object of the capability
      std::string_view label;  // shown
      std::string_view level;  // its level field
      Level max;
      std::string_view token;  // its token field
      std::string_view icon;
    };
    for (const Part& p : {Part{Capability::Sound, "sound", "Sound", "volume",
                               safety.sound.max_volume, "track", "mdi:speaker"},
                          Part{Capability::Massager, "massager", "Massager", "intensity",
                               safety.massage.max_intensity, "pattern", "mdi:vibrate"}}) {
      if (!has(caps, p.capability)) continue;
      const std::string name(p.name);
      add("switch", base + "_" + name, device, availability,
          {{"name", std::string(p.label)},
           {"command_topic", set},
           {"payload_on", command(p.name, "on", "true")},
           {"payload_off", command(p.name, "on", "false")},
           {"state_topic", state},
           {"value_template",
            fmt::format("{{{{ 'ON' if {}.on | default(false) else 'OFF' }}}}", path(p.name))},
           {"state_on", "ON"},
           {"state_off", "OFF"},
           {"icon", std::string(p.icon)}});
      add("number", base + "_" + std::string(p.level), device, availability,
          {{"name", fmt::format("{} {}", p.label, p.level)},
           {"command_topic", set},
           {"command_template", command(p.name, p.level, "{{ value }}")},
           {"state_topic", state},
           {"value_template",
            fmt::format("{{{{ {}.{} | default(None) }}}}", path(p.name), p.level)},
           {"min", 0},
           {"max", p.max.fraction()},
           {"step", 0.01},
           {"mode", "slider"}});
      json options = json::array();
      for (const auto& token : tokens(p.capability)) options.push_back(token);
      add("select", base + "_" + std::string(p.token), device, availability,
          {{"name", fmt::format("{} {}", p.label, p.token)},
           {"command_topic", set},
           {"command_template", command(p.name, p.token, "\"{{ value }}\"")},
           {"state_topic", state},
           {"value_template",
            fmt::format("{{{{ {}.{} | default(None) }}}}", path(p.name), p.token)},
           {"options", std::move(options)}});
    }
    if (status && status->battery) {
      add("sensor", base + "_battery", device, availability,
          {{"name", "Battery"},
           {"state_topic", state},
           {"value_template", "{{ value_json.battery }}"},
           {"device_class", "battery"},
           {"state_class", "measurement"},
           {"unit_of_measurement", "%"},
           {"entity_category", "diagnostic"}});
    }
  }

  std::vector<DiscoveryMessage> take() { return std::move(out_); }

 private:
  json hub_availability() const { return json{{"topic", topics_.status()}}; }

  std::string room_name(const std::string& id) const {
    const auto* room = config_.find_room(id);
    return room ? room->name : id;
  }

  // The tracks or patterns the config's routines use: what a person would
  // choose from.
  std::set<std::string> tokens(Capability capability) const {
    std::set<std::string> out;
    for (const auto& r : config_.routines)
      for (const auto& step : r.steps) {
        const auto& v = capability == Capability::Sound ? step.values.track : step.values.pattern;
        if (v) out.insert(*v);
      }
    return out;
  }

  void add(std::string_view component, std::string object_id, const json& device,
           const json& availability, json entity) {
    object_id = sanitize(object_id);
    entity["unique_id"] = fmt::format("nursery_{}_{}", node_, object_id);
    entity["object_id"] = fmt::format("nursery_{}_{}", node_, object_id);
    entity["device"] = device;
    if (!availability.is_null()) {
      entity["availability"] = availability;
      entity["availability_mode"] = "all";
    }
    entity["qos"] = settings_.qos;
    entity["origin"] = json{{"name", "nurseryd"}, {"sw_version", kVersion}};
    out_.push_back(
        {fmt::format("{}/{}/{}/{}/config", settings_.discovery_prefix, component, node_, object_id),
         dump_json(entity)});
  }

  const config::Config& config_;
  const config::MqttConfig& settings_;
  Topics topics_;
  std::string node_;
  json hub_block_;
  std::vector<DiscoveryMessage> out_;
};

}  // namespace

std::string discovery_node_id(const config::MqttConfig& settings) {
  return sanitize(settings.base_topic);
}

std::string discovery_filter(const config::MqttConfig& settings) {
  return fmt::format("{}/+/{}/+/config", settings.discovery_prefix, discovery_node_id(settings));
}

std::vector<DiscoveryMessage> discovery_messages(const config::Config& config,
                                                 const HubStatus& status,
                                                 const config::MqttConfig& settings) {
  Builder b(config, settings);
  b.hub_device();
  for (const auto& room : config.rooms) b.room(room);
  for (const auto& d : config.devices) {
    const DeviceStatus* found = nullptr;
    for (const auto& r : status.rooms)
      for (const auto& s : r.devices)
        if (s.id == d.id) found = &s;
    b.managed(d, found);
  }
  return b.take();
}

}  // namespace nursery::mqtt::bridge
