#include "mqtt_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "config/loader.hpp"
#include "config/text.hpp"

namespace nursery::plugins::mqtt_common {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Within the hub's own tolerance (daemon/devices.cpp): a device that
// settles a step off has still done what it was asked.
constexpr int kLevelTolerance = 15;  // permille
constexpr int kColorTolerance = 30;  // kelvin

bool close(const bool& a, const bool& b) { return a == b; }
bool close(const Level& a, const Level& b) {
  return std::abs(a.permille() - b.permille()) <= kLevelTolerance;
}
bool close(const int& a, const int& b) { return std::abs(a - b) <= kColorTolerance; }
bool close(const std::string& a, const std::string& b) { return a == b; }

// No switch of `expected` contradicts `seen`: a report on the way to it.
bool on_the_way(const DeviceValues& expected, const DeviceValues& seen) {
  for (Capability c : kAllCapabilities)
    if (expected.on(c) && seen.on(c) && *expected.on(c) != *seen.on(c)) return false;
  return true;
}

}  // namespace

// --- config keys ------------------------------------------------------------

std::string string_option(const config::DeviceConfig& device, std::string_view key,
                          std::string fallback) {
  const auto* v = option<std::string>(device, key);
  return v ? *v : std::move(fallback);
}

std::int64_t integer_option(const config::DeviceConfig& device, std::string_view key,
                            std::int64_t fallback) {
  const auto* v = option<std::int64_t>(device, key);
  return v ? *v : fallback;
}

bool bool_option(const config::DeviceConfig& device, std::string_view key, bool fallback) {
  const auto* v = option<bool>(device, key);
  return v ? *v : fallback;
}

Duration duration_option(const config::DeviceConfig& device, std::string_view key,
                         Duration fallback) {
  const auto* v = option<std::string>(device, key);
  if (!v) return fallback;
  auto d = config::parse_duration(*v);
  return d ? std::chrono::duration_cast<Duration>(*d) : fallback;
}

void Checker::error(std::string_view key, std::string message) {
  auto it = device_.options.find(std::string(key));
  out_.push_back({config::Diagnostic::Severity::Error,
                  it == device_.options.end() ? device_.where : it->second.where,
                  std::move(message)});
}

void Checker::topic(std::string_view key) {
  const auto* v = option<std::string>(device_, key);
  if (!v) return;
  if (auto why = check_topic(*v)) error(key, fmt::format("{} {}", key, *why));
}

void Checker::topic_part(std::string_view key, bool single_level) {
  const auto* v = option<std::string>(device_, key);
  if (!v) return;
  if (auto why = check_topic(*v)) {
    error(key, fmt::format("{} {}", key, *why));
  } else if (single_level && v->find('/') != std::string::npos) {
    error(key, fmt::format("{} must be one topic level, without '/'", key));
  } else if (v->front() == '/' || v->back() == '/') {
    error(key, fmt::format("{} must not begin or end with '/'", key));
  }
}

void Checker::range(std::string_view key, std::int64_t low, std::int64_t high) {
  const auto* v = option<std::int64_t>(device_, key);
  if (v && (*v < low || *v > high))
    error(key, fmt::format("{} must be from {} to {}", key, low, high));
}

void Checker::value_map(std::string_view key) {
  const auto* v = option<std::string>(device_, key);
  if (!v) return;
  auto map = parse_value_map(*v);
  if (!map) {
    error(key, fmt::format("{} must be a list of name=value pairs, separated by commas "
                           "(\"white-noise=1, rain=2\"), each name once",
                           key));
    return;
  }
  for (const auto& [token, value] : *map)
    if (auto why = check_token(key, token)) error(key, *why);
}

void Checker::one_of(std::string_view key, std::initializer_list<std::string_view> allowed) {
  const auto* v = option<std::string>(device_, key);
  if (!v || std::find(allowed.begin(), allowed.end(), *v) != allowed.end()) return;
  std::string list;
  for (auto a : allowed) list += fmt::format("{}\"{}\"", list.empty() ? "" : " or ", a);
  error(key, fmt::format("{} must be {}", key, list));
}

std::optional<std::string> check_topic(std::string_view topic) {
  if (topic.empty()) return "must not be empty";
  if (topic.size() > 65535) return "is longer than MQTT allows (65535 bytes)";
  if (topic.find_first_of("+#") != std::string_view::npos)
    return "must be a topic, without the wildcards + and #";
  if (topic.find('\0') != std::string_view::npos) return "must not contain a NUL character";
  if (find_invalid_utf8(topic)) return "must be valid UTF-8";
  return std::nullopt;
}

std::string join_topic(std::string_view a, std::string_view b) {
  while (!a.empty() && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return fmt::format("{}/{}", a, b);
}

std::optional<std::map<std::string, std::string>> parse_value_map(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!trim(text).empty()) {
    const auto comma = text.find(',');
    const auto entry = text.substr(0, comma);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto token = trim(entry.substr(0, eq));
    const auto value = trim(entry.substr(eq + 1));
    if (token.empty() || value.empty()) return std::nullopt;
    if (!out.emplace(std::string(token), std::string(value)).second) return std::nullopt;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

MqttCommon read_common(const config::DeviceConfig& device) {
  MqttCommon c;
  c.confirm_timeout = duration_option(device, "confirm_timeout", c.confirm_timeout);
  return c;
}

// --- payloads ---------------------------------------------------------------

std::optional<nlohmann::json> parse_object(std::string_view payload) {
  if (find_invalid_utf8(payload)) return std::nullopt;
  auto j = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

const nlohmann::json* find_member(const nlohmann::json& object, std::string_view path) {
  const nlohmann::json* at = &object;
  while (true) {
    if (!at->is_object()) return nullptr;
    const auto dot = path.find('.');
    const auto key = path.substr(0, dot);
    const nlohmann::json* next = nullptr;
    if (auto exact = at->find(std::string(key)); exact != at->end()) {
      next = &*exact;
    } else {
      for (auto it = at->begin(); it != at->end(); ++it)
        if (iequals(it.key(), key)) {
          next = &it.value();
          break;
        }
    }
    if (!next || dot == std::string_view::npos) return next;
    at = next;
    path.remove_prefix(dot + 1);
  }
}

void set_member(nlohmann::json& object, std::string_view path, nlohmann::json value) {
  nlohmann::json* at = &object;
  while (true) {
    const auto dot = path.find('.');
    auto& slot = (*at)[std::string(path.substr(0, dot))];
    if (dot == std::string_view::npos) {
      slot = std::move(value);
      return;
    }
    if (!slot.is_object()) slot = nlohmann::json::object();
    at = &slot;
    path.remove_prefix(dot + 1);
  }
}

std::optional<bool> parse_availability(std::string_view payload, std::string_view online,
                                       std::string_view offline) {
  const auto word = trim(payload);
  auto plain = [&](std::string_view w) -> std::optional<bool> {
    if (iequals(w, online)) return true;
    if (iequals(w, offline)) return false;
    return std::nullopt;
  };
  if (auto p = plain(word)) return p;
  if (auto object = parse_object(word)) {
    const auto* state = find_member(*object, "state");
    if (state && state->is_string()) return plain(state->get_ref<const std::string&>());
  }
  return std::nullopt;
}

int level_to_scale(Level level, int max, bool at_least_one) {
  const int v = static_cast<int>(std::lround(level.permille() * static_cast<double>(max) / 1000.0));
  return at_least_one ? std::max(v, 1) : v;
}

std::optional<Level> level_from_scale(double value, int max) {
  if (!std::isfinite(value) || value < 0 || value > max || max <= 0) return std::nullopt;
  return Level::permille(static_cast<int>(std::lround(value * 1000.0 / max)));
}

int kelvin_to_mireds(int kelvin) {
  return static_cast<int>(std::lround(1e6 / std::max(kelvin, 1)));
}
int mireds_to_kelvin(int mireds) {
  return static_cast<int>(std::lround(1e6 / std::max(mireds, 1)));
}

std::optional<double> json_number(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

std::optional<bool> json_switch(const nlohmann::json& value, std::string_view on,
                                std::string_view off) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) {
    const auto n = value.get<std::int64_t>();
    if (n == 0 || n == 1) return n == 1;
    return std::nullopt;
  }
  if (!value.is_string()) return std::nullopt;
  const auto& s = value.get_ref<const std::string&>();
  if (iequals(s, on)) return true;
  if (iequals(s, off)) return false;
  if (iequals(s, "ON") || iequals(s, "true")) return true;
  if (iequals(s, "OFF") || iequals(s, "false")) return false;
  return std::nullopt;
}

bool confirms(const DeviceValues& expected, const DeviceValues& seen) {
  bool all = true;
  for_each_member([&](const Field& field, auto member) {
    if (!(expected.*member)) return;
    if (field.kind != FieldKind::Switch && expected.on(field.capability) == false) return;
    if (!(seen.*member) || !close(*(seen.*member), *(expected.*member))) all = false;
  });
  return all;
}

// --- the device base --------------------------------------------------------

MqttDevice::MqttDevice(const config::DeviceConfig& config, DeviceHost& host, MqttCommon common)
    : Device(config),
      host_(host),
      log_(host.logger()),
      common_(std::move(common)),
      grace_(host.clock().make_alarm()) {}

MqttDevice::~MqttDevice() = default;

void MqttDevice::listen(std::string topic, std::function<void(const PubSubMessage&)> handler) {
  listens_.emplace_back(std::move(topic), std::move(handler));
}

void MqttDevice::start() {
  PubSub* bus = host_.pubsub();
  if (!bus) {
    set_availability(Availability::Unavailable,
                     "MQTT is off: this device needs an [mqtt] table with a broker uri");
    return;
  }
  for (auto& [topic, handler] : listens_)
    handles_.push_back(
        bus->subscribe(topic, [this, h = handler](const PubSubMessage& m) { h(m); }));
  if (!common_.availability_topic.empty())
    handles_.push_back(bus->subscribe(common_.availability_topic, [this](const PubSubMessage& m) {
      on_availability_message(m);
    }));
  handles_.push_back(bus->watch_connection([this](bool up) { on_link(up); }));
  if (bus->connected())
    on_link(true);
  else
    set_availability(Availability::Connecting, "waiting for the MQTT broker");
}

void MqttDevice::stop(std::function<void()> done) {
  // Nothing in flight can be answered any more; the handles end with us.
  handles_.clear();
  grace_->cancel();
  fail_all("the device was stopped");
  done();
}

void MqttDevice::on_link(bool up) {
  link_up_ = up;
  if (!up) {
    grace_->cancel();
    set_availability(Availability::Unavailable, "the MQTT broker is not connected");
    return;
  }
  if (device_online_ == false) {
    set_availability(Availability::Unavailable, offline_reason());
    return;
  }
  // A retained LWT arrives right after the subscription; a device that
  // publishes none (Zigbee2MQTT with availability off) is taken as there.
  await_state(device_online_ || common_.availability_topic.empty()
                  ? "waiting for its state"
                  : fmt::format("waiting for {}", common_.availability_topic));
  on_link_up();
}

std::string MqttDevice::offline_reason() const {
  return fmt::format("{} says it is offline ({})", common_.speaker, common_.availability_topic);
}

void MqttDevice::await_state(std::string reason) {
  if (!common_.confirm_by_state) {
    // Nothing will ever say what it has: there as soon as it may be.
    set_availability(Availability::Available, {});
    return;
  }
  // Available once its state is known (or after a moment without it), so
  // that what the hub sends first is not crossed by the answer to our query.
  set_availability(Availability::Connecting, std::move(reason));
  grace_->set(host_.clock().now() + std::chrono::seconds(3), [this] {
    if (link_up_ && device_online_ != false) set_availability(Availability::Available, {});
  });
}

void MqttDevice::on_availability_message(const PubSubMessage& message) {
  auto online =
      parse_availability(message.payload, common_.payload_available, common_.payload_not_available);
  if (!online) {
    bad_payload(message, fmt::format("an availability payload is \"{}\" or \"{}\" (or JSON "
                                     "{{\"state\":\"{}\"}})",
                                     common_.payload_available, common_.payload_not_available,
                                     common_.payload_available));
    return;
  }
  good_payload(message.topic);
  const std::optional<bool> was = device_online_;
  device_online_ = *online;
  if (!link_up_ || was == online) return;
  if (*online) {
    // Back: ask what it has now, available once it says. First heard: it
    // was taken as there already, or its state is being waited for.
    if (was == false) {
      await_state("waiting for its state");
      on_link_up();
    }
  } else {
    grace_->cancel();
    fail_all(offline_reason());
    set_availability(Availability::Unavailable, offline_reason());
  }
}

void MqttDevice::set_availability(Availability availability, std::string reason) {
  if (availability == availability_ && reason == availability_reason_) return;
  availability_ = availability;
  availability_reason_ = reason;
  host_.availability(availability, std::move(reason));
}

void MqttDevice::publish(Outgoing message) {
  if (PubSub* bus = host_.pubsub())
    bus->publish(std::move(message.topic), std::move(message.payload),
                 PublishOptions{1, false, PublishKind::Command});
}

void MqttDevice::apply(const DeviceCommand& command) {
  PubSub* bus = host_.pubsub();
  if (!bus) {
    host_.command_result(command.id, CommandOutcome::Failed,
                         "MQTT is off: this device needs an [mqtt] table with a broker uri");
    return;
  }
  DeviceCommand limited = command;
  limited.values = command.values.only(capabilities());
  if (!native_transition(Capability::Light) && !native_transition(Capability::Sound) &&
      !native_transition(Capability::Massager))
    limited.transition = Duration{0};
  for (auto& m : encode(limited)) publish(std::move(m));
  if (!common_.confirm_by_state) {
    host_.command_result(command.id, CommandOutcome::Done);
    return;
  }
  Pending p;
  p.id = command.id;
  p.expected = expected(limited);
  p.sent_at = host_.clock().now();
  p.transition = limited.transition;
  p.timeout = host_.clock().make_alarm();
  const CommandId id = command.id;
  p.timeout->set(p.sent_at + common_.confirm_timeout, [this, id] { time_out(id); });
  pending_.push_back(std::move(p));
}

void MqttDevice::time_out(CommandId id) {
  auto it =
      std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.id == id; });
  if (it == pending_.end()) return;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(common_.confirm_timeout);
  std::string reason =
      link_up_ ? fmt::format("{} did not report {} within {} s", common_.speaker,
                             describe(it->expected), seconds.count())
               : fmt::format("the MQTT broker was not connected for {} s", seconds.count());
  const CommandId done_id = it->id;
  pending_.erase(it);
  host_.command_result(done_id, CommandOutcome::TimedOut, std::move(reason));
  if (held_ && pending_.empty()) {
    // What it said instead is what it has.
    host_.report(DeviceReport{*held_, false, std::nullopt});
    held_.reset();
  }
}

void MqttDevice::end_pending(std::size_t count, CommandOutcome outcome, const std::string& reason) {
  std::vector<CommandId> ids;
  for (std::size_t i = 0; i < count && i < pending_.size(); ++i) ids.push_back(pending_[i].id);
  pending_.erase(pending_.begin(),
                 pending_.begin() + static_cast<std::ptrdiff_t>(std::min(count, pending_.size())));
  for (CommandId id : ids) host_.command_result(id, outcome, reason);
}

void MqttDevice::fail_all(const std::string& reason) {
  fading_.reset();
  end_pending(pending_.size(), CommandOutcome::Failed, reason);
}

void MqttDevice::observed(const DeviceValues& raw, bool fading) {
  const DeviceValues values = raw.only(capabilities());
  if (values.empty()) return;
  // A device that speaks is there, even if its LWT has not been heard.
  if (link_up_ && device_online_ != false && availability_ == Availability::Connecting) {
    grace_->cancel();
    set_availability(Availability::Available, {});
  }
  const TimePoint now = host_.clock().now();
  DeviceReport report{values, false, std::nullopt};
  log_.debug("{}: reports {} with {} command(s) in flight", name(), describe(values),
             pending_.size());
  // The newest command this state confirms; older ones are confirmed with it.
  std::optional<std::size_t> confirmed;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    pending_[i].seen.merge(values);
    if (confirms(pending_[i].expected, pending_[i].seen)) confirmed = i;
  }
  if (confirmed) {
    held_.reset();
    const Pending& p = pending_[*confirmed];
    report.answers = p.id;
    report.in_transition = fading;
    if (p.transition > Duration{0})
      fading_ = Fading{p.id, p.expected, p.sent_at + p.transition + common_.confirm_timeout};
    else
      fading_.reset();
    host_.report(report);
    end_pending(*confirmed + 1, CommandOutcome::Done, {});
    return;
  }
  if (!pending_.empty()) {
    // Not there yet: a device fading towards the newest command says so.
    const Pending& p = pending_.back();
    const bool in_window = fading || (p.transition > Duration{0} &&
                                      now <= p.sent_at + p.transition + common_.confirm_timeout);
    if (in_window && on_the_way(p.expected, values)) {
      report.answers = p.id;
      report.in_transition = true;
      fading_ = Fading{p.id, p.expected, p.sent_at + p.transition + common_.confirm_timeout};
      host_.report(report);
      // It heard the command and is carrying it out.
      end_pending(pending_.size(), CommandOutcome::Done, {});
      return;
    }
    if (!on_the_way(p.expected, values)) {
      // A state from before the command, or a step of a Backlog on its
      // way: what it ends with comes next. Held, and reported if the
      // command times out, so that a stale state is not taken for a hand.
      held_ = values;
      return;
    }
  } else if (fading_ && now <= fading_->until && on_the_way(fading_->expected, values)) {
    // Values on the way after the device confirmed the fade's target.
    report.answers = fading_->id;
    report.in_transition = !confirms(fading_->expected, values);
    if (!report.in_transition) fading_.reset();
    host_.report(report);
    return;
  }
  host_.report(report);
}

void MqttDevice::bad_payload(const PubSubMessage& message, std::string_view why) {
  if (!bad_topics_.insert(message.topic).second) {
    log_.debug("{}: ignored another payload on {} ({} bytes): {}", name(), message.topic,
               message.payload.size(), why);
    return;
  }
  log_.warning(
      "{}: ignored a payload on {} ({} bytes): {}; further bad payloads there are not "
      "logged until a good one",
      name(), message.topic, message.payload.size(), why);
}

}  // namespace nursery::plugins::mqtt_common
