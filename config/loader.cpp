#include "loader.hpp"

#include <date/tz.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <system_error>
#include <utility>

#include "daemon/schedule/schedule.hpp"
#include "text.hpp"

namespace nursery::config {

namespace {

constexpr std::string_view kDurationExamples = R"("90s", "5m", "1h30m")";

// Keys each table understands; anything else is reported as a warning.
constexpr std::string_view kTopKeys[] = {"hub",     "child",    "safety", "rooms",
                                         "devices", "routines", "mqtt"};
constexpr std::string_view kHubKeys[] = {"name", "time_zone", "latitude", "longitude"};
constexpr std::string_view kChildKeys[] = {"name", "birth_date"};
constexpr std::string_view kSafetyKeys[] = {"sound", "massage", "light"};
constexpr std::string_view kSoundKeys[] = {"max_volume", "auto_off"};
constexpr std::string_view kMassageKeys[] = {"max_intensity", "start_intensity",
                                             "session_under_6_weeks", "session_6_to_12_weeks",
                                             "session_from_3_months"};
constexpr std::string_view kLightKeys[] = {"night_max_brightness", "night_max_color_temp",
                                           "night_window", "wake_max_brightness",
                                           "wake_max_color_temp"};
constexpr std::string_view kMqttKeys[] = {
    "uri",           "client_id",  "username",         "password",
    "password_file", "base_topic", "discovery_prefix", "keep_alive",
    "qos",           "tls",        "max_payload"};
constexpr std::string_view kMqttTlsKeys[] = {"ca_file", "cert_file", "key_file", "verify"};
// MQTT's own bound on a packet's payload.
constexpr std::int64_t kMaxMqttPayload = 268'435'455;
constexpr std::int64_t kMinMqttPayload = 256;
constexpr std::string_view kRoomKeys[] = {"id", "name", "default_routine", "schedules", "wake"};

constexpr std::string_view kWakeKeys[] = {"at",
                                          "sun",
                                          "mon",
                                          "tue",
                                          "wed",
                                          "thu",
                                          "fri",
                                          "sat",
                                          "ramp",
                                          "routine",
                                          "night_length",
                                          "ok_to_wake",
                                          "ok_to_wake_brightness",
                                          "ok_to_wake_color_temp"};
// Every other key of a [[devices]] block belongs to the driver.
constexpr std::string_view kDeviceKeys[] = {"id", "name", "room", "driver"};
constexpr std::string_view kRoutineKeys[] = {"id", "name", "kind", "steps"};
constexpr std::string_view kStepKeys[] = {"at",         "role",       "fade",   "on",
                                          "brightness", "color_temp", "volume", "track",
                                          "intensity",  "pattern"};
static_assert(std::size(kStepKeys) == 3 + kFields.size() - 2,
              "every field of config/values.hpp (one \"on\" for all) is a step key");

constexpr Seconds kMaxNightWindow{24 * 3600};
// A routine is at most a day long: every step's `at`, `fade` and their sum.
constexpr Seconds kMaxRoutineLength{24 * 3600};

bool contains(std::span<const std::string_view> keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

// The inverse of parse_duration, for messages: 5400s -> "1h30m".
std::string format_duration(Seconds d) {
  auto total = d.count();
  if (total == 0) return "0s";
  std::string out;
  if (auto h = total / 3600; h > 0) out += fmt::format("{}h", h);
  if (auto m = total % 3600 / 60; m > 0) out += fmt::format("{}m", m);
  if (auto s = total % 60; s > 0) out += fmt::format("{}s", s);
  return out;
}

std::optional<RoutineKind> parse_routine_kind(std::string_view name) {
  if (name == "bedtime") return RoutineKind::Bedtime;
  if (name == "wake") return RoutineKind::Wake;
  if (name == "other") return RoutineKind::Other;
  return std::nullopt;
}

// Per-file state of one load. Every check reports what it finds and carries on,
// so that one run lists every error in the file.
class Loader {
 public:
  Loader(std::string_view source, const DriverCatalog& drivers)
      : source_(source), drivers_(drivers) {
    config_.source = source_;
  }

  LoadResult load(std::string_view text) {
    // toml++ reports a bad byte at the last good code point before it, and
    // only within its read-ahead block; the byte itself is what to point at.
    if (const auto bad = find_invalid_utf8(text)) {
      error(Location{source_, bad->line, bad->column},
            fmt::format("invalid UTF-8: byte 0x{:02x} cannot start or continue a character here "
                        "(the file must be UTF-8 text)",
                        static_cast<unsigned char>(text[bad->offset])));
      return finish();
    }
    toml::table root;
    try {
      root = toml::parse(text, std::string_view(source_));
    } catch (const toml::parse_error& e) {
      error(e.source(), std::string(e.description()));
      return finish();
    }
    warn_unknown_keys(root, kTopKeys, "the top level");
    if (const auto* t = section(root, "hub", "[hub]")) load_hub(*t);
    if (const auto* t = section(root, "child", "[child]")) load_child(*t);
    if (const auto* t = section(root, "safety", "[safety]")) load_safety(*t);
    for (const auto* t : table_array(root, "rooms")) load_room(*t);
    for (const auto* t : table_array(root, "routines")) load_routine(*t);
    build_wake_routines();
    for (const auto* t : table_array(root, "devices")) load_device(*t);
    if (const auto* t = section(root, "mqtt", "[mqtt]")) load_mqtt(*t);
    check_rooms_present(root);
    check_references();
    check_roles();
    return finish();
  }

 private:
  // Where a value was given that refers to something defined elsewhere, kept
  // until everything is loaded and the reference can be checked.
  struct Reference {
    std::string id;
    std::optional<toml::source_region> where;  // nullopt: the default applies
  };

  Location location(const toml::source_region& region) const {
    return Location{source_, static_cast<int>(region.begin.line),
                    static_cast<int>(region.begin.column)};
  }

  void error(const toml::source_region& region, std::string message) {
    error(location(region), std::move(message));
  }
  void error(Location where, std::string message) {
    diagnostics_.push_back({Diagnostic::Severity::Error, std::move(where), std::move(message)});
  }
  void warning(const toml::source_region& region, std::string message) {
    warning(location(region), std::move(message));
  }
  void warning(Location where, std::string message) {
    diagnostics_.push_back({Diagnostic::Severity::Warning, std::move(where), std::move(message)});
  }

  LoadResult finish() {
    std::stable_sort(
        diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
          return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
        });
    LoadResult result;
    const bool failed =
        std::any_of(diagnostics_.begin(), diagnostics_.end(),
                    [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; });
    if (!failed) result.config = std::move(config_);
    result.diagnostics = std::move(diagnostics_);
    return result;
  }

  void warn_unknown_keys(const toml::table& table, std::span<const std::string_view> known,
                         std::string_view context) {
    for (auto&& [key, value] : table)
      if (!contains(known, key.str()))
        warning(key.source(), fmt::format("unknown key \"{}\" in {}", key.str(), context));
  }

  // --- Typed reads. Each reports a wrong type or value at the value's location
  // and returns nullopt; the caller keeps its default.

  std::optional<std::string> read_string(const toml::node& node, std::string_view key) {
    if (const auto* s = node.as_string()) return s->get();
    error(node.source(), fmt::format("{} must be a string, got {}", key, type_name(node.type())));
    return std::nullopt;
  }

  std::optional<bool> read_bool(const toml::node& node, std::string_view key) {
    if (const auto* b = node.as_boolean()) return b->get();
    error(node.source(),
          fmt::format("{} must be true or false, got {}", key, type_name(node.type())));
    return std::nullopt;
  }

  std::optional<std::int64_t> read_integer(const toml::node& node, std::string_view key) {
    if (const auto* i = node.as_integer()) return i->get();
    error(node.source(), fmt::format("{} must be an integer, got {}", key, type_name(node.type())));
    return std::nullopt;
  }

  // A number may be written as an integer or a float (`brightness = 1`).
  std::optional<double> read_number(const toml::node& node, std::string_view key) {
    if (const auto* f = node.as_floating_point()) return f->get();
    if (const auto* i = node.as_integer()) return static_cast<double>(i->get());
    error(node.source(), fmt::format("{} must be a number, got {}", key, type_name(node.type())));
    return std::nullopt;
  }

  // Durations are strings with units only, so that "30" can never be read as
  // the wrong unit.
  std::optional<Seconds> read_duration(const toml::node& node, std::string_view key) {
    const auto* s = node.as_string();
    if (!s) {
      error(node.source(), fmt::format("{} must be a duration string like {}, got {}", key,
                                       kDurationExamples, type_name(node.type())));
      return std::nullopt;
    }
    auto d = parse_duration(s->get());
    if (!d)
      error(node.source(),
            fmt::format("invalid duration \"{}\" (expected e.g. {})", s->get(), kDurationExamples));
    return d;
  }

  std::optional<std::string> read_id(const toml::node& node, std::string_view what) {
    auto id = read_string(node, "id");
    if (!id) return id;
    if (auto why = check_id(fmt::format("{} id", what), *id)) {
      error(node.source(), *why);
      return std::nullopt;
    }
    return id;
  }

  // A fraction-valued limit: 0 would disable the device, so it must be above 0.
  void read_limit(const toml::table& table, std::string_view key, Level& out) {
    const auto* node = table.get(key);
    if (!node) return;
    auto v = read_number(*node, key);
    if (!v) return;
    auto level = Level::from_fraction(*v);
    if (!level || level->permille() == 0)
      error(node->source(),
            fmt::format("{} must be greater than 0 and at most 1, got {}", key, *v));
    else
      out = *level;
  }

  void read_kelvin_limit(const toml::table& table, std::string_view key, int& out) {
    const auto* node = table.get(key);
    if (!node) return;
    if (auto k = read_integer(*node, key)) {
      if (auto why = check_color_temp(*k))
        error(node->source(), fmt::format("{}: {}", key, *why));
      else
        out = static_cast<int>(*k);
    }
  }

  void read_limit_duration(const toml::table& table, std::string_view key, Seconds max,
                           std::string_view max_reason, Seconds& out) {
    const auto* node = table.get(key);
    if (!node) return;
    auto d = read_duration(*node, key);
    if (!d) return;
    if (*d <= Seconds{0})
      error(node->source(), fmt::format("{} must be longer than 0s", key));
    else if (*d > max)
      error(node->source(), fmt::format("{} must be at most {} ({}), got {}", key,
                                        format_duration(max), max_reason, format_duration(*d)));
    else
      out = *d;
  }

  // A name shown to parents; `what` says whose ("room name").
  void read_display_name(const toml::table& table, std::string_view what, std::string& out) {
    const auto* node = table.get("name");
    if (!node) return;
    auto v = read_string(*node, "name");
    if (!v) return;
    if (auto why = check_display_name(what, *v))
      error(node->source(), *why);
    else
      out = std::move(*v);
  }

  // --- Sections.

  const toml::table* section(const toml::table& root, std::string_view key,
                             std::string_view header) {
    const auto* node = root.get(key);
    if (!node) return nullptr;
    if (const auto* t = node->as_table()) return t;
    error(node->source(),
          fmt::format("{} must be a table ({}), got {}", key, header, type_name(node->type())));
    return nullptr;
  }

  std::vector<const toml::table*> table_array(const toml::table& root, std::string_view key) {
    std::vector<const toml::table*> tables;
    const auto* node = root.get(key);
    if (!node) return tables;
    const auto* array = node->as_array();
    if (!array) {
      error(node->source(), fmt::format("{} must be an array of tables ([[{}]]), got {}", key, key,
                                        type_name(node->type())));
      return tables;
    }
    for (const auto& element : *array) {
      if (const auto* t = element.as_table())
        tables.push_back(t);
      else
        error(element.source(), fmt::format("each entry of {} must be a table ([[{}]]), got {}",
                                            key, key, type_name(element.type())));
    }
    return tables;
  }

  void load_hub(const toml::table& t) {
    warn_unknown_keys(t, kHubKeys, "[hub]");
    auto& hub = config_.hub;
    read_display_name(t, "the hub's name", hub.name);
    if (const auto* node = t.get("time_zone")) {
      if (auto zone = read_string(*node, "time_zone")) {
        if (auto why = check_time_zone(*zone))
          error(node->source(), *why);
        else
          hub.time_zone = *zone;
      }
    }
    read_coordinate(t, "latitude", 90.0, hub.latitude);
    read_coordinate(t, "longitude", 180.0, hub.longitude);
  }

  static std::optional<std::string> check_time_zone(const std::string& zone) {
    try {
      date::get_tzdb();
    } catch (const std::exception& e) {
      // Not the config's fault: say so rather than blame the zone name.
      return fmt::format("cannot check time_zone \"{}\": the tz database is unreadable ({})", zone,
                         e.what());
    }
    try {
      date::locate_zone(zone);
      return std::nullopt;
    } catch (const std::exception&) {
      return fmt::format(
          "unknown time zone \"{}\" (expected an IANA name from the tz database, e.g. "
          "\"Europe/London\")",
          zone);
    }
  }

  void read_coordinate(const toml::table& t, std::string_view key, double bound, double& out) {
    const auto* node = t.get(key);
    if (!node) return;
    auto v = read_number(*node, key);
    if (!v) return;
    if (!(*v >= -bound && *v <= bound))
      error(node->source(),
            fmt::format("{} must be between {} and {} degrees, got {}", key, -bound, bound, *v));
    else
      out = *v;
  }

  void load_child(const toml::table& t) {
    warn_unknown_keys(t, kChildKeys, "[child]");
    read_display_name(t, "the child's name", config_.child.name);
    if (const auto* node = t.get("birth_date")) {
      if (const auto* d = node->as_date()) {
        const toml::date& v = d->get();
        config_.child.birth_date = std::chrono::sys_days{
            std::chrono::year{v.year} / std::chrono::month{v.month} / std::chrono::day{v.day}};
      } else {
        error(node->source(),
              fmt::format("birth_date must be a date like 2026-09-01 (no quotes, no time), got {}",
                          type_name(node->type())));
      }
    }
  }

  void load_safety(const toml::table& t) {
    warn_unknown_keys(t, kSafetyKeys, "[safety]");
    auto& safety = config_.safety;
    if (const auto* s = section(t, "sound", "[safety.sound]")) {
      warn_unknown_keys(*s, kSoundKeys, "[safety.sound]");
      read_limit(*s, "max_volume", safety.sound.max_volume);
      read_limit_duration(*s, "auto_off", kHardMaxSoundAutoOff, "the hard safety bound",
                          safety.sound.auto_off);
    }
    if (const auto* m = section(t, "massage", "[safety.massage]")) {
      warn_unknown_keys(*m, kMassageKeys, "[safety.massage]");
      auto& massage = safety.massage;
      const auto errors_before = diagnostics_.size();
      read_limit(*m, "max_intensity", massage.max_intensity);
      read_limit(*m, "start_intensity", massage.start_intensity);
      // Compared only when both read cleanly, so one bad value is one error.
      const bool intensities_read = diagnostics_.size() == errors_before;
      for (auto [key, field] : {std::pair{"session_under_6_weeks", &massage.session_under_6_weeks},
                                std::pair{"session_6_to_12_weeks", &massage.session_6_to_12_weeks},
                                std::pair{"session_from_3_months", &massage.session_from_3_months}})
        read_limit_duration(*m, key, kHardMaxMassageSession, "the hard safety bound", *field);
      if (intensities_read && massage.start_intensity > massage.max_intensity) {
        // Point at whichever of the two was written; start_intensity if both.
        const auto* node = m->get("start_intensity");
        if (!node) node = m->get("max_intensity");
        error(node ? location(node->source()) : location(m->source()),
              fmt::format("start_intensity ({}) must not be above max_intensity ({})",
                          massage.start_intensity.fraction(), massage.max_intensity.fraction()));
      }
    }
    if (const auto* l = section(t, "light", "[safety.light]")) {
      warn_unknown_keys(*l, kLightKeys, "[safety.light]");
      read_limit(*l, "night_max_brightness", safety.light.night_max_brightness);
      read_kelvin_limit(*l, "night_max_color_temp", safety.light.night_max_color_temp);
      read_limit_duration(*l, "night_window", kMaxNightWindow, "a day", safety.light.night_window);
      read_limit(*l, "wake_max_brightness", safety.light.wake_max_brightness);
      read_kelvin_limit(*l, "wake_max_color_temp", safety.light.wake_max_color_temp);
    }
  }

  // --- [mqtt]. The URI's syntax is the MQTT client's to check (the daemon
  // does, pointing at uri_where); everything else is checked here.

  void load_mqtt(const toml::table& t) {
    warn_unknown_keys(t, kMqttKeys, "[mqtt]");
    MqttConfig mqtt;
    mqtt.where = location(t.source());
    const auto* uri = t.get("uri");
    if (!uri) {
      // Without a broker there is nothing to connect to: MQTT stays off,
      // and a table of settings alone is most likely a forgotten uri.
      if (!t.empty())
        warning(t.source(), "[mqtt] has no uri: MQTT is off (set uri = \"tcp://HOST:1883\")");
      return;
    }
    if (auto v = read_string(*uri, "uri")) {
      if (v->empty()) error(uri->source(), "uri must not be empty (leave it out to turn MQTT off)");
      mqtt.uri = *v;
      mqtt.uri_where = location(uri->source());
    }
    read_mqtt_text(t, "client_id", 256, mqtt.client_id);
    read_mqtt_text(t, "username", 256, mqtt.username);
    const auto* password = t.get("password");
    const auto* password_file = t.get("password_file");
    if (password && password_file)
      error(password_file->source(), "give password or password_file, not both");
    else if (password)
      read_mqtt_text(t, "password", 1024, mqtt.password);
    else if (password_file)
      read_password_file(*password_file, mqtt.password);
    if ((password || password_file) && mqtt.username.empty())
      error((password ? password : password_file)->source(),
            "a password needs a username (MQTT 3.1.1 sends none without one)");
    read_topic_prefix(t, "base_topic", mqtt.base_topic);
    read_topic_prefix(t, "discovery_prefix", mqtt.discovery_prefix);
    if (const auto* node = t.get("keep_alive")) {
      if (auto d = read_duration(*node, "keep_alive")) {
        if (*d < Seconds{1} || *d > Seconds{65535})
          error(node->source(),
                fmt::format("keep_alive must be from 1s to 65535s, got {}", format_duration(*d)));
        else
          mqtt.keep_alive = *d;
      }
    }
    if (const auto* node = t.get("qos")) {
      if (auto q = read_integer(*node, "qos")) {
        if (*q < 0 || *q > 2)
          error(node->source(), fmt::format("qos must be 0, 1 or 2, got {}", *q));
        else
          mqtt.qos = static_cast<int>(*q);
      }
    }
    if (const auto* node = t.get("max_payload")) {
      if (auto n = read_integer(*node, "max_payload")) {
        if (*n < kMinMqttPayload || *n > kMaxMqttPayload)
          error(node->source(), fmt::format("max_payload must be from {} to {} bytes, got {}",
                                            kMinMqttPayload, kMaxMqttPayload, *n));
        else
          mqtt.max_payload = static_cast<std::size_t>(*n);
      }
    }
    if (const auto* tls = section(t, "tls", "[mqtt.tls]")) {
      warn_unknown_keys(*tls, kMqttTlsKeys, "[mqtt.tls]");
      read_readable_file(*tls, "ca_file", mqtt.tls.ca_file);
      read_readable_file(*tls, "cert_file", mqtt.tls.cert_file);
      read_readable_file(*tls, "key_file", mqtt.tls.key_file);
      if (const auto* node = tls->get("verify"))
        if (auto v = read_bool(*node, "verify")) mqtt.tls.verify = *v;
      if (mqtt.tls.cert_file.empty() != mqtt.tls.key_file.empty())
        error(tls->source(), "cert_file and key_file go together: give both or neither");
    }
    config_.mqtt = std::move(mqtt);
  }

  // A string of at most `max_bytes` with nothing unprintable in it (it goes
  // into MQTT packets and log lines).
  void read_mqtt_text(const toml::table& t, std::string_view key, std::size_t max_bytes,
                      std::string& out) {
    const auto* node = t.get(key);
    if (!node) return;
    auto v = read_string(*node, key);
    if (!v) return;
    if (v->size() > max_bytes)
      error(node->source(),
            fmt::format("{} must be at most {} bytes, got {}", key, max_bytes, v->size()));
    else if (has_unprintable(*v))
      error(node->source(), fmt::format("{} must not contain control characters", key));
    else
      out = std::move(*v);
  }

  static bool has_unprintable(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
      const auto step = decode_utf8(text, i);
      if (step.length == 0 || is_unprintable(step.code_point)) return true;
      i += step.length;
    }
    return false;
  }

  // base_topic and discovery_prefix: topic levels the hub prefixes to all it
  // publishes, so no wildcards, no empty level, no leading '$'.
  void read_topic_prefix(const toml::table& t, std::string_view key, std::string& out) {
    const auto* node = t.get(key);
    if (!node) return;
    auto v = read_string(*node, key);
    if (!v) return;
    std::string_view why;
    if (v->empty())
      why = "must not be empty";
    else if (v->size() > 200)
      why = "must be at most 200 bytes";
    else if (v->find_first_of("+#") != std::string::npos)
      why = "must not contain the MQTT wildcards + or #";
    else if (v->front() == '$')
      why = "must not start with $ (the broker's own topics)";
    else if (v->front() == '/' || v->back() == '/' || v->find("//") != std::string::npos)
      why = "must not start or end with / or have an empty level (//)";
    else if (has_unprintable(*v) || v->find(' ') != std::string::npos)
      why = "must not contain spaces or control characters";
    if (!why.empty())
      error(node->source(), fmt::format("{} {}, got \"{}\"", key, why, *v));
    else
      out = std::move(*v);
  }

  // A path relative to the config file's directory.
  std::string resolve_path(const std::string& path) const {
    const std::filesystem::path p(path);
    if (p.is_absolute()) return path;
    return (std::filesystem::path(source_).parent_path() / p).string();
  }

  void read_readable_file(const toml::table& t, std::string_view key, std::string& out) {
    const auto* node = t.get(key);
    if (!node) return;
    auto v = read_string(*node, key);
    if (!v) return;
    const auto path = resolve_path(*v);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (v->empty() || !f)
      error(node->source(),
            fmt::format("{} \"{}\" cannot be read: {}", key, path,
                        std::generic_category().message(v->empty() ? ENOENT : errno)));
    else
      out = path;
  }

  // The password, read now (at start and on reload) so that a missing or
  // unreadable file is a config error, not a refused connection later. One
  // trailing newline (as `echo` writes) is not part of it.
  void read_password_file(const toml::node& node, std::string& out) {
    auto v = read_string(node, "password_file");
    if (!v) return;
    const auto path = resolve_path(*v);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (v->empty() || !f) {
      error(node.source(),
            fmt::format("password_file \"{}\" cannot be read: {}", path,
                        std::generic_category().message(v->empty() ? ENOENT : errno)));
      return;
    }
    std::string text;
    char buffer[1024];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f.get())) > 0 && text.size() <= 4096)
      text.append(buffer, n);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty())
      error(node.source(), fmt::format("password_file \"{}\" is empty", path));
    else if (text.size() > 1024)
      error(node.source(), fmt::format("password_file \"{}\" holds more than 1024 bytes", path));
    else if (has_unprintable(text))
      error(node.source(), fmt::format("password_file \"{}\" holds control characters or "
                                       "invalid UTF-8 besides its final newline",
                                       path));
    else
      out = std::move(text);
  }

  // Reports a second definition of `id`; returns false for a duplicate.
  bool claim_id(std::map<std::string, Location, std::less<>>& seen, std::string_view what,
                const std::string& id, const toml::node& node) {
    auto [it, inserted] = seen.emplace(id, location(node.source()));
    if (!inserted)
      error(node.source(), fmt::format("duplicate {} id \"{}\" (first defined at {})", what, id,
                                       it->second.to_string()));
    return inserted;
  }

  // Reads the required id of a room, device or routine block.
  std::optional<std::string> required_id(const toml::table& t, std::string_view what,
                                         std::string_view header,
                                         std::map<std::string, Location, std::less<>>& seen) {
    const auto* node = t.get("id");
    if (!node) {
      error(t.source(), fmt::format("missing required key \"id\" in {}", header));
      return std::nullopt;
    }
    auto id = read_id(*node, what);
    if (id) claim_id(seen, what, *id, *node);
    return id;
  }

  void load_room(const toml::table& t) {
    warn_unknown_keys(t, kRoomKeys, "[[rooms]]");
    RoomConfig room;
    room.where = location(t.source());
    if (auto id = required_id(t, "room", "[[rooms]]", room_ids_)) room.id = *id;
    room.name = room.id;
    read_display_name(t, "room name", room.name);
    Reference routine{room.default_routine, std::nullopt};
    if (const auto* node = t.get("default_routine")) {
      if (auto v = read_string(*node, "default_routine")) {
        room.default_routine = *v;
        routine = {*v, node->source()};
      } else {
        routine.id.clear();  // already reported; nothing to check
      }
    }
    room_routines_.push_back(std::move(routine));
    if (const auto* w = section(t, "wake", "[rooms.wake]")) room.wake = load_wake(*w);
    room.schedules = load_schedules(t);
    config_.rooms.push_back(std::move(room));
  }

  // --- [[rooms.schedules]] ------------------------------------------------------
  // Parsed by the schedule library (the API's rules, one model); each of its
  // errors is mapped back to the node it is about.

  static schedule::FieldValue field_value(const toml::node& node) {
    using schedule::FieldValue;
    if (const auto* b = node.as_boolean()) return FieldValue::of_bool(b->get());
    if (const auto* i = node.as_integer())
      return FieldValue::of_number(static_cast<double>(i->get()));
    if (const auto* f = node.as_floating_point()) return FieldValue::of_number(f->get());
    if (const auto* str = node.as_string()) return FieldValue::of_string(str->get());
    if (const auto* a = node.as_array()) {
      std::vector<FieldValue> items;
      for (const auto& item : *a) items.push_back(field_value(item));
      return FieldValue::of_list(std::move(items));
    }
    return FieldValue::of_other(std::string(type_name(node.type())));
  }

  std::vector<schedule::Schedule> load_schedules(const toml::table& room) {
    const auto tables = table_array(room, "schedules");
    if (tables.empty()) return {};
    std::vector<std::vector<schedule::Field>> list;
    for (const auto* t : tables) {
      std::vector<schedule::Field> fields;
      for (const auto& [key, node] : *t)
        fields.push_back({std::string(key.str()), field_value(node)});
      list.push_back(std::move(fields));
    }
    auto parsed = schedule::parse_schedule_list(list);
    for (const auto& e : parsed.errors) {
      const toml::table* t =
          e.schedule && *e.schedule < tables.size() ? tables[*e.schedule] : tables.front();
      const toml::node* node = e.field.empty() ? nullptr : t->get(e.field);
      if (node && e.item)
        if (const auto* a = node->as_array(); a && *e.item < a->size()) node = a->get(*e.item);
      error(node ? node->source() : t->source(), e.message);
    }
    if (!parsed.schedules) return {};
    for (std::size_t i = 0; i < parsed.schedules->size(); ++i) {
      const toml::node* node = tables[i]->get("routine");
      schedule_routines_.push_back(
          {(*parsed.schedules)[i].routine, node ? node->source() : tables[i]->source()});
    }
    return std::move(*parsed.schedules);
  }

  // [rooms.wake]: a wake time by clock (`at`, or per weekday `mon`..`sun`)
  // or `night_length` after bedtime began, never both.
  WakeConfig load_wake(const toml::table& t) {
    warn_unknown_keys(t, kWakeKeys, "[rooms.wake]");
    WakeConfig wake;
    wake.where = location(t.source());
    const toml::node* clock_node = nullptr;
    auto read_clock = [&](std::string_view key) -> std::optional<int> {
      const auto* node = t.get(key);
      if (!node) return std::nullopt;
      clock_node = node;
      auto text = read_string(*node, key);
      if (!text) return std::nullopt;
      const auto& v = *text;
      auto digit = [&](std::size_t i) { return v[i] >= '0' && v[i] <= '9'; };
      const bool shape =
          v.size() == 5 && v[2] == ':' && digit(0) && digit(1) && digit(3) && digit(4);
      const int hh = shape ? (v[0] - '0') * 10 + (v[1] - '0') : 99;
      const int mm = shape ? (v[3] - '0') * 10 + (v[4] - '0') : 99;
      if (hh > 23 || mm > 59) {
        error(node->source(), fmt::format("{} must be a time of day \"HH:MM\" (00:00 to 23:59), "
                                          "got \"{}\"",
                                          key, v));
        return std::nullopt;
      }
      return hh * 60 + mm;
    };
    const auto every_day = read_clock("at");
    constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (std::size_t d = 0; d < 7; ++d) {
      auto v = read_clock(kDays[d]);
      wake.by_weekday[d] = v ? v : every_day;
    }
    if (const auto* node = t.get("night_length")) {
      if (auto d = read_duration(*node, "night_length")) {
        if (clock_node)
          error(node->source(),
                "give the wake time either by clock (at, mon..sun) or as "
                "night_length, not both");
        else if (*d < Seconds{3600} || *d > Seconds{14 * 3600})
          error(node->source(),
                fmt::format("night_length must be from 1h to 14h, got {}", format_duration(*d)));
        else
          wake.night_length = *d;
      }
    } else if (!clock_node) {
      error(t.source(),
            "[rooms.wake] needs a wake time: at = \"07:00\" (or mon..sun), or "
            "night_length = \"11h\"");
    }
    if (const auto* node = t.get("ramp")) {
      if (auto d = read_duration(*node, "ramp")) {
        if (*d < kMinWakeRamp || *d > kMaxWakeRamp)
          error(node->source(),
                fmt::format("ramp must be from {} to {}, got {}", format_duration(kMinWakeRamp),
                            format_duration(kMaxWakeRamp), format_duration(*d)));
        else
          wake.ramp = *d;
      }
    }
    if (const auto* node = t.get("routine")) {
      if (auto id = read_id(*node, "routine")) wake.routine = *id;
      wake_routine_nodes_.push_back(node->source());
    } else {
      wake_routine_nodes_.push_back(t.source());
    }
    if (const auto* node = t.get("ok_to_wake")) {
      if (auto d = read_duration(*node, "ok_to_wake")) {
        if (*d > Seconds{4 * 3600})
          error(node->source(),
                fmt::format("ok_to_wake must be at most 4h, got {}", format_duration(*d)));
        else
          wake.ok_to_wake = *d;
      }
    }
    // Checked against the wake ceiling once [safety] is read (build_wake_routines).
    wake.ok_to_wake_brightness = config_.safety.light.wake_max_brightness;
    wake.ok_to_wake_color_temp = config_.safety.light.wake_max_color_temp;
    read_limit(t, "ok_to_wake_brightness", wake.ok_to_wake_brightness);
    read_kelvin_limit(t, "ok_to_wake_color_temp", wake.ok_to_wake_color_temp);
    return wake;
  }

  // Adds the routine each [rooms.wake] stands for, once every routine is read.
  void build_wake_routines() {
    std::size_t index = 0;
    for (auto& room : config_.rooms) {
      if (!room.wake) continue;
      const auto where = wake_routine_nodes_[index++];
      WakeConfig& wake = *room.wake;
      const auto& light = config_.safety.light;
      if (wake.ok_to_wake_brightness > light.wake_max_brightness ||
          wake.ok_to_wake_color_temp > light.wake_max_color_temp)
        error(wake.where,
              fmt::format("the \"OK to wake\" light ({}, {} K) must be within the wake ceiling "
                          "({}, {} K)",
                          wake.ok_to_wake_brightness.fraction(), wake.ok_to_wake_color_temp,
                          light.wake_max_brightness.fraction(), light.wake_max_color_temp));
      if (const auto* same = config_.find_routine(wake.routine)) {
        // Two rooms may share one wake routine only if it is the same one.
        if (same->kind != RoutineKind::Wake || same->name != "Wake light") {
          error(where, fmt::format("the wake routine \"{}\" has the id of a [[routines]] block "
                                   "(at {}); give [rooms.wake] another routine id",
                                   wake.routine, same->where.to_string()));
        }
        continue;
      }
      // The night's volume: the last one the room's default routine sets.
      std::optional<Level> volume;
      if (const auto* bedtime = config_.find_routine(room.default_routine))
        for (const auto& s : bedtime->steps)
          if (s.values.volume) volume = s.values.volume;
      if (volume) volume = std::min(*volume, config_.safety.sound.max_volume);
      config_.routines.push_back(wake_routine(wake, config_.safety, volume));
    }
  }

  void load_device(const toml::table& t) {
    DeviceConfig device;
    device.where = location(t.source());
    if (auto id = required_id(t, "device", "[[devices]]", device_ids_)) device.id = *id;
    device.name = device.id;
    read_display_name(t, "device name", device.name);

    if (const auto* node = t.get("room")) {
      if (auto room = read_string(*node, "room")) {
        device.room = *room;
        device_rooms_.push_back({*room, node->source()});
      }
    } else {
      error(t.source(), "missing required key \"room\" in [[devices]]");
    }

    const DriverSpec* spec = nullptr;
    if (const auto* node = t.get("driver")) {
      if (auto driver = read_string(*node, "driver")) {
        device.driver = *driver;
        spec = drivers_ ? drivers_(*driver) : nullptr;
        if (!spec) error(node->source(), fmt::format("unknown driver \"{}\"", *driver));
      }
    } else {
      error(t.source(), "missing required key \"driver\" in [[devices]]");
    }
    // Without a known driver its options cannot be checked: the driver error
    // is the one to fix first.
    std::optional<Capabilities> capabilities;
    if (spec && load_driver_options(t, *spec, device)) {
      const auto errors_before = error_count();
      if (spec->validate) run_driver_validation(*spec, device);
      if (spec->capabilities && error_count() == errors_before)
        capabilities = spec->capabilities(device);
    }
    device_capabilities_.push_back(capabilities);
    config_.devices.push_back(std::move(device));
  }

  // Returns false when an option is missing or of the wrong type, so that the
  // driver's own validation only ever sees well-typed options.
  bool load_driver_options(const toml::table& t, const DriverSpec& spec, DeviceConfig& device) {
    bool ok = true;
    for (auto&& [key, node] : t) {
      if (contains(kDeviceKeys, key.str())) continue;
      const auto option =
          std::find_if(spec.options.begin(), spec.options.end(),
                       [&](const DriverOptionSpec& o) { return o.key == key.str(); });
      if (option == spec.options.end()) {
        warning(key.source(),
                fmt::format("unknown key \"{}\" in [[devices]] (driver \"{}\" takes: {})",
                            key.str(), spec.name, option_list(spec)));
        continue;
      }
      if (auto value = read_option(node, key.str(), option->type))
        device.options.emplace(std::string(key.str()),
                               DriverOption{std::move(*value), location(node.source())});
      else
        ok = false;
    }
    for (const auto& option : spec.options) {
      if (option.required && !t.contains(option.key)) {
        error(t.source(), fmt::format("missing required key \"{}\" in [[devices]] (driver \"{}\")",
                                      option.key, spec.name));
        ok = false;
      }
    }
    return ok;
  }

  static std::string option_list(const DriverSpec& spec) {
    if (spec.options.empty()) return "no options";
    std::string list;
    for (const auto& option : spec.options) {
      if (!list.empty()) list += ", ";
      list += option.key;
    }
    return list;
  }

  // Numbers are stored as double whether written 1 or 1.0; durations stay the
  // string as written (already checked with parse_duration).
  std::optional<decltype(DriverOption::value)> read_option(const toml::node& node,
                                                           std::string_view key, OptionType type) {
    switch (type) {
      case OptionType::Bool:
        if (auto v = read_bool(node, key)) return *v;
        return std::nullopt;
      case OptionType::Integer:
        if (auto v = read_integer(node, key)) return *v;
        return std::nullopt;
      case OptionType::Number:
        if (auto v = read_number(node, key)) return *v;
        return std::nullopt;
      case OptionType::String:
        if (auto v = read_string(node, key)) return std::move(*v);
        return std::nullopt;
      case OptionType::Duration:
        if (read_duration(node, key)) return std::string(node.as_string()->get());
        return std::nullopt;
    }
    return std::nullopt;
  }

  void run_driver_validation(const DriverSpec& spec, const DeviceConfig& device) {
    try {
      auto found = spec.validate(device);
      diagnostics_.insert(diagnostics_.end(), std::make_move_iterator(found.begin()),
                          std::make_move_iterator(found.end()));
    } catch (const std::exception& e) {
      error(device.where,
            fmt::format("driver \"{}\" could not check this device: {}", spec.name, e.what()));
    }
  }

  void load_routine(const toml::table& t) {
    warn_unknown_keys(t, kRoutineKeys, "[[routines]]");
    RoutineConfig routine;
    routine.where = location(t.source());
    if (auto id = required_id(t, "routine", "[[routines]]", routine_ids_)) routine.id = *id;
    routine.name = routine.id;
    read_display_name(t, "routine name", routine.name);
    if (const auto* node = t.get("kind")) {
      if (auto kind = read_string(*node, "kind")) {
        if (auto parsed = parse_routine_kind(*kind))
          routine.kind = *parsed;
        else
          error(
              node->source(),
              fmt::format("unknown routine kind \"{}\" (expected bedtime, wake or other)", *kind));
      }
    }

    // Steps that read without an error; only those are compared, so that one
    // mistake (say, a bad `at` read as 0s) is one error.
    std::vector<bool> clean;
    const auto* steps = t.get("steps");
    if (!steps) {
      error(t.source(), "routine has no steps (add at least one [[routines.steps]])");
    } else if (const auto* array = steps->as_array()) {
      if (array->empty())
        error(steps->source(), "routine has no steps (add at least one [[routines.steps]])");
      for (const auto& element : *array) {
        if (const auto* step = element.as_table()) {
          const auto errors_before = error_count();
          routine.steps.push_back(load_step(*step));
          clean.push_back(error_count() == errors_before);
        } else
          error(element.source(),
                fmt::format("each step must be a table ([[routines.steps]]), got {}",
                            type_name(element.type())));
      }
    } else {
      error(steps->source(),
            fmt::format("steps must be an array of tables ([[routines.steps]]), got {}",
                        type_name(steps->type())));
    }
    check_contradictions(routine.steps, clean);
    std::stable_sort(routine.steps.begin(), routine.steps.end(),
                     [](const StepConfig& a, const StepConfig& b) { return a.at < b.at; });
    config_.routines.push_back(std::move(routine));
  }

  StepConfig load_step(const toml::table& t) {
    warn_unknown_keys(t, kStepKeys, "[[routines.steps]]");
    StepConfig step;
    step.where = location(t.source());

    const auto* at_node = t.get("at");
    if (at_node) {
      if (auto at = read_routine_time(*at_node, "at")) step.at = *at;
    } else {
      error(t.source(), "missing required key \"at\" in [[routines.steps]]");
    }
    if (const auto* node = t.get("fade")) {
      if (auto fade = read_routine_time(*node, "fade")) {
        step.fade = *fade;
        if (step.at + step.fade > kMaxRoutineLength)
          error(node->source(),
                fmt::format("this step ends at {} (at {} + fade {}); a routine is at most {} long",
                            format_duration(step.at + step.fade), format_duration(step.at),
                            format_duration(step.fade), format_duration(kMaxRoutineLength)));
      }
    }

    std::optional<Role> role;
    if (const auto* node = t.get("role")) {
      if (auto name = read_string(*node, "role")) {
        role = parse_role(*name);
        if (role)
          step.role = *role;
        else
          error(node->source(),
                fmt::format("unknown role \"{}\" (expected light, sound or massager)", *name));
      }
    } else {
      error(t.source(), "missing required key \"role\" in [[routines.steps]]");
    }

    bool has_value = false;
    for (auto&& [key, node] : t) {
      const auto name = key.str();
      const auto owner = capability_of_field(name);
      if (name != "on" && !owner) continue;  // at, role, fade, or unknown (warned above)
      has_value = true;
      if (!role) continue;  // the role error is the one to fix first
      if (owner && *owner != *role) {
        error(key.source(), fmt::format("{} is a {} value: a {} step cannot set it", name,
                                        role_name(*owner), role_name(*role)));
        continue;
      }
      read_field_value(*find_field(*role, name), node, step.values);
    }
    if (!has_value)
      error(t.source(), fmt::format("step sets no value (give at least one of {})", field_names()));
    return step;
  }

  // Reads one field of the table in config/values.hpp, checked as every
  // surface checks it.
  void read_field_value(const Field& field, const toml::node& node, DeviceValues& values) {
    std::visit(
        [&](auto member) {
          using T = typename std::remove_cvref_t<decltype(values.*member)>::value_type;
          if constexpr (std::is_same_v<T, bool>) {
            values.*member = read_bool(node, field.name);
          } else if constexpr (std::is_same_v<T, Level>) {
            auto v = read_number(node, field.name);
            if (!v) return;
            if (auto why = check_fraction(field.name, *v))
              error(node.source(), *why);
            else
              values.*member = Level::from_fraction(*v);
          } else if constexpr (std::is_same_v<T, int>) {
            auto k = read_integer(node, field.name);
            if (!k) return;
            if (auto why = check_color_temp(*k))
              error(node.source(), *why);
            else
              values.*member = static_cast<int>(*k);
          } else {
            auto v = read_string(node, field.name);
            if (!v) return;
            if (auto why = check_token(field.name, *v))
              error(node.source(), *why);
            else
              values.*member = std::move(*v);
          }
        },
        field.member);
  }

  // An offset or a fade within a routine: a duration of at most a day.
  std::optional<Seconds> read_routine_time(const toml::node& node, std::string_view key) {
    auto d = read_duration(node, key);
    if (d && *d > kMaxRoutineLength) {
      error(node.source(),
            fmt::format("{} must be at most {} (a routine is at most {} long), got {}", key,
                        format_duration(kMaxRoutineLength), format_duration(kMaxRoutineLength),
                        format_duration(*d)));
      return std::nullopt;
    }
    return d;
  }

  // Two steps for one role at one offset are merged by the engine, so a
  // value they disagree on would be silently dropped: refuse it at the later
  // step (in file order), naming the earlier.
  void check_contradictions(const std::vector<StepConfig>& steps, const std::vector<bool>& clean) {
    for (std::size_t j = 0; j < steps.size(); ++j) {
      if (!clean[j]) continue;
      for (std::size_t i = 0; i < j; ++i) {
        if (!clean[i]) continue;
        const auto& first = steps[i];
        const auto& second = steps[j];
        if (first.role != second.role || first.at != second.at) continue;
        if (auto what = contradiction(first, second)) {
          error(second.where,
                fmt::format("this {} step at {} contradicts the one at {}: {}; steps for the same "
                            "role at the same time must agree (write them as one step)",
                            role_name(second.role), format_duration(second.at),
                            first.where.to_string(), *what));
          break;
        }
      }
    }
  }

  // "on = false here, on = true there", or nullopt when the steps agree on
  // every value both set, and on the fade.
  static std::optional<std::string> contradiction(const StepConfig& first,
                                                  const StepConfig& second) {
    std::optional<std::string> found;
    for_each_member([&](const Field& field, auto member) {
      const auto& a = first.values.*member;
      const auto& b = second.values.*member;
      if (found || !a || !b || *a == *b) return;
      found =
          fmt::format("{} = {} here, {} = {} there", field.name, shown(*b), field.name, shown(*a));
    });
    if (!found && first.fade != second.fade)
      found = fmt::format("fade = \"{}\" here, \"{}\" there", format_duration(second.fade),
                          format_duration(first.fade));
    return found;
  }
  static std::string shown(bool v) { return v ? "true" : "false"; }
  static std::string shown(Level v) { return fmt::format("{}", v.fraction()); }
  static std::string shown(int v) { return fmt::format("{}", v); }
  static std::string shown(const std::string& v) { return fmt::format("\"{}\"", v); }

  std::size_t error_count() const {
    return static_cast<std::size_t>(std::count_if(
        diagnostics_.begin(), diagnostics_.end(),
        [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; }));
  }

  // A hub without a room has nothing to run: an empty file (or one with only
  // a byte-order mark or comments) is refused rather than run as a hub that
  // does nothing. `rooms` of the wrong shape is already reported.
  void check_rooms_present(const toml::table& root) {
    if (!config_.rooms.empty()) return;
    const auto* node = root.get("rooms");
    if (node && !(node->is_array() && node->as_array()->empty())) return;
    constexpr std::string_view kHint =
        "add a [[rooms]] block with an id (and [[devices]] with that room) for the hub to run";
    if (node) {
      error(node->source(), fmt::format("no rooms: rooms is empty; {}", kHint));
      return;
    }
    // Point at the first thing the file holds, or at its start when it
    // holds nothing.
    Location where{source_, 1, 1};
    bool found = false;
    for (auto&& [key, value] : root) {
      const Location at = location(key.source());
      if (!found || std::pair(at.line, at.column) < std::pair(where.line, where.column)) where = at;
      found = true;
    }
    error(where, fmt::format("no rooms: the configuration defines no [[rooms]]; {}", kHint));
  }

  // Warnings for what would do nothing: a room without devices, and a step of
  // a room's default routine for a role none of the room's devices has. Only
  // the default routine is checked: any routine can be started in any room,
  // and a routine meant for another room is not a mistake. A device whose
  // driver does not say what it can do counts as able to do anything.
  void check_roles() {
    for (const auto& room : config_.rooms) {
      if (room.id.empty()) continue;
      Capabilities present = 0;
      bool unknown = false;
      bool any = false;
      for (std::size_t i = 0; i < config_.devices.size(); ++i) {
        if (config_.devices[i].room != room.id) continue;
        any = true;
        if (device_capabilities_[i])
          present |= *device_capabilities_[i];
        else
          unknown = true;
      }
      if (!any) {
        warning(room.where,
                fmt::format("room \"{}\" has no devices (no [[devices]] with room = \"{}\"): its "
                            "routines will do nothing",
                            room.id, room.id));
        continue;
      }
      if (unknown) continue;
      const auto* routine = config_.find_routine(room.default_routine);
      if (!routine) continue;
      for (const auto& step : routine->steps)
        if (!has(present, step.role))
          warning(step.where,
                  fmt::format("room \"{}\" has no {} device: this step of its default routine "
                              "\"{}\" will do nothing there",
                              room.id, role_name(step.role), routine->id));
    }
  }

  void check_references() {
    for (std::size_t i = 0; i < config_.rooms.size(); ++i) {
      const auto& room = config_.rooms[i];
      const auto& ref = room_routines_[i];
      if (ref.id.empty() || config_.find_routine(ref.id)) continue;
      if (ref.where)
        error(*ref.where,
              fmt::format("default_routine \"{}\" names no routine in [[routines]]", ref.id));
      else
        error(room.where,
              fmt::format("room \"{}\" has default_routine \"{}\" (the default) but no routine "
                          "has that id: add it to [[routines]] or set default_routine",
                          room.id, ref.id));
    }
    for (const auto& ref : schedule_routines_)
      if (!config_.find_routine(ref.id))
        error(*ref.where,
              fmt::format("schedule routine \"{}\" names no routine in [[routines]]", ref.id));
    for (const auto& ref : device_rooms_)
      if (!config_.find_room(ref.id))
        error(*ref.where, fmt::format("unknown room \"{}\" (no [[rooms]] has that id)", ref.id));
  }

  std::string source_;
  const DriverCatalog& drivers_;
  Config config_;
  std::vector<Diagnostic> diagnostics_;
  std::map<std::string, Location, std::less<>> room_ids_;
  std::map<std::string, Location, std::less<>> device_ids_;
  std::map<std::string, Location, std::less<>> routine_ids_;
  std::vector<Reference> room_routines_;  // parallel to config_.rooms
  std::vector<Reference> device_rooms_;
  std::vector<Reference> schedule_routines_;
  std::vector<toml::source_region> wake_routine_nodes_;  // per room with [rooms.wake]
  // Parallel to config_.devices; nullopt when the driver does not say.
  std::vector<std::optional<Capabilities>> device_capabilities_;
};

LoadResult internal_error(std::string_view source, const char* what) {
  LoadResult result;
  result.diagnostics.push_back({Diagnostic::Severity::Error, Location{std::string(source), 0, 0},
                                fmt::format("internal error while loading the config: {}", what)});
  return result;
}

}  // namespace

LoadResult load_string(std::string_view text, std::string_view source_name,
                       const DriverCatalog& drivers) {
  try {
    return Loader(source_name, drivers).load(text);
  } catch (const std::exception& e) {
    return internal_error(source_name, e.what());
  }
}

LoadResult load_file(const std::filesystem::path& file, const DriverCatalog& drivers) {
  const std::string name = file.string();
  try {
    auto cannot_read = [&](int err) {
      LoadResult result;
      result.diagnostics.push_back(
          {Diagnostic::Severity::Error, Location{name, 0, 0},
           fmt::format("cannot read {}: {}", name, std::generic_category().message(err))});
      return result;
    };
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(name.c_str(), "rb"), &std::fclose);
    if (!f) return cannot_read(errno);
    std::string text;
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f.get())) > 0) text.append(buffer, n);
    if (std::ferror(f.get())) return cannot_read(errno);
    return Loader(name, drivers).load(text);
  } catch (const std::exception& e) {
    return internal_error(name, e.what());
  }
}

// Units h, m, s, in that order, each at most once, each a non-negative integer:
// "90s", "5m", "1h30m", "1h5m30s", "0s". Numbers above a billion are refused
// so that the sum cannot overflow.
std::optional<Seconds> parse_duration(std::string_view text) {
  constexpr std::int64_t kMaxNumber = 1'000'000'000;
  constexpr std::pair<char, std::int64_t> kUnits[] = {{'h', 3600}, {'m', 60}, {'s', 1}};
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must come in order, each at most once
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t number = 0;
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxNumber) return std::nullopt;
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;  // no digits, or no unit
    const char unit = text[i++];
    while (next_unit < std::size(kUnits) && kUnits[next_unit].first != unit) ++next_unit;
    if (next_unit == std::size(kUnits)) return std::nullopt;  // unknown or out of order
    total += number * kUnits[next_unit].second;
    ++next_unit;
  }
  return Seconds{total};
}

}  // namespace nursery::config
