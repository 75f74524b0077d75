#pragma once
// What the MQTT device drivers share (zigbee2mqtt, mqtt-json, tasmota,
// mqtt-sound, mqtt-massager): reading and checking their config keys,
// building topics, reading a device's JSON and its availability payloads,
// and MqttDevice, the base class that turns what a device publishes into
// reports with context:
//
// - a state message that confirms a command in flight answers it (the
//   command is Done); one that shows the device fading towards it is marked
//   in transition and answers it; one that no command explains (a wall
//   switch, another app) is reported as it is, answering nothing, so the hub
//   sees the override;
// - a command that no state message confirms within `confirm_timeout` is
//   TimedOut with a reason; one in flight when the device goes offline fails;
// - availability follows the device's own LWT (plain or JSON payload), and
//   the broker's link: the broker away means the device is unavailable;
// - a payload the device should not have sent (not JSON, wrong types, out of
//   range) changes nothing and is logged once per topic until a good one.
//
// Drivers never see Paho: they get PubSub from DeviceHost::pubsub().
// Thread: the loop thread. Nothing here throws.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/driver_spec.hpp"
#include "daemon/device.hpp"

namespace nursery::plugins::mqtt_common {

// --- config keys ------------------------------------------------------------

template <typename T>
const T* option(const config::DeviceConfig& device, std::string_view key) {
  auto it = device.options.find(std::string(key));
  return it == device.options.end() ? nullptr : std::get_if<T>(&it->second.value);
}
std::string string_option(const config::DeviceConfig& device, std::string_view key,
                          std::string fallback = {});
std::int64_t integer_option(const config::DeviceConfig& device, std::string_view key,
                            std::int64_t fallback);
bool bool_option(const config::DeviceConfig& device, std::string_view key, bool fallback);
Duration duration_option(const config::DeviceConfig& device, std::string_view key,
                         Duration fallback);

// Collects the errors of one [[devices]] block, each at its key's location.
class Checker {
 public:
  explicit Checker(const config::DeviceConfig& device) : device_(device) {}
  void error(std::string_view key, std::string message);
  // A topic to publish or subscribe to exactly: not empty, no + or #, no
  // NUL, at most 65535 bytes.
  void topic(std::string_view key);
  // One level of a topic (a Tasmota topic, a Zigbee2MQTT base): as topic(),
  // and for `single_level` no '/'.
  void topic_part(std::string_view key, bool single_level);
  void range(std::string_view key, std::int64_t low, std::int64_t high);
  // "a=1, b=2": tokens (track, pattern names) mapped to device values.
  void value_map(std::string_view key);
  void one_of(std::string_view key, std::initializer_list<std::string_view> allowed);
  std::vector<config::Diagnostic> take() { return std::move(out_); }

 private:
  const config::DeviceConfig& device_;
  std::vector<config::Diagnostic> out_;
};

// Why `topic` cannot be published to (nullopt when it can).
std::optional<std::string> check_topic(std::string_view topic);
// "a" + "b" -> "a/b", without doubling a '/' at the seam.
std::string join_topic(std::string_view a, std::string_view b);

// "white-noise=1, rain=rain_sound" -> {{"white-noise","1"},{"rain","rain_sound"}};
// nullopt when malformed (an entry without '=', an empty side, a token twice).
std::optional<std::map<std::string, std::string>> parse_value_map(std::string_view text);

// --- payloads ---------------------------------------------------------------

// The JSON object in `payload`, or nullopt (not JSON, not an object,
// invalid UTF-8).
std::optional<nlohmann::json> parse_object(std::string_view payload);
// The member at a dotted path ("Wifi.RSSI"), keys compared without regard
// to case (Tasmota answers "POWER" to "Power"); null when absent.
const nlohmann::json* find_member(const nlohmann::json& object, std::string_view path);
// Sets the member at a dotted path, creating objects on the way.
void set_member(nlohmann::json& object, std::string_view path, nlohmann::json value);

// An availability payload: the plain form ("online"/"offline", compared
// without regard to case, or the configured words) or the JSON form
// ({"state":"online"}, Zigbee2MQTT 2.x). nullopt when it is neither.
std::optional<bool> parse_availability(std::string_view payload, std::string_view online = "online",
                                       std::string_view offline = "offline");

// Levels on a device's own integer scale (0..max) and back; a light that is
// on is never sent 0, which many devices take for "off".
int level_to_scale(Level level, int max, bool at_least_one = false);
std::optional<Level> level_from_scale(double value, int max);
int kelvin_to_mireds(int kelvin);
int mireds_to_kelvin(int mireds);

// A JSON number or a numeric string ("40") as a double; nullopt otherwise.
std::optional<double> json_number(const nlohmann::json& value);
// "ON"/"OFF" (any case), true/false, 1/0, or one of the configured words.
std::optional<bool> json_switch(const nlohmann::json& value, std::string_view on = "ON",
                                std::string_view off = "OFF");

// --- the device base --------------------------------------------------------

struct MqttCommon {
  // Where the device publishes its own availability (its LWT); empty: it
  // does not, and the device is available while the broker is.
  std::string availability_topic;
  std::string payload_available = "online";
  std::string payload_not_available = "offline";
  // How long a command may go unconfirmed by a state message.
  Duration confirm_timeout = std::chrono::seconds(10);
  // False: the device has no state topic, so a command is Done once handed
  // to the broker (nothing could ever confirm it).
  bool confirm_by_state = true;
  // Named in messages: "Zigbee2MQTT", "Tasmota", "the device".
  std::string speaker = "the device";
};

// The config keys every MQTT driver takes, for its DriverSpec, and their
// reading into MqttCommon.
inline constexpr config::DriverOptionSpec kConfirmTimeoutOption{
    "confirm_timeout", config::OptionType::Duration, false};
MqttCommon read_common(const config::DeviceConfig& device);

// The keys of a device whose topics are configured one by one (mqtt-json,
// mqtt-sound, mqtt-massager).
inline constexpr std::array<config::DriverOptionSpec, 5> kTopicOptions{{
    {"command_topic", config::OptionType::String, true},
    {"state_topic", config::OptionType::String, false},
    {"availability_topic", config::OptionType::String, false},
    {"payload_available", config::OptionType::String, false},
    {"payload_not_available", config::OptionType::String, false},
}};

// One list of keys from two, for a DriverSpec.
template <std::size_t A, std::size_t B>
constexpr std::array<config::DriverOptionSpec, A + B> join_options(
    const std::array<config::DriverOptionSpec, A>& a,
    const std::array<config::DriverOptionSpec, B>& b) {
  std::array<config::DriverOptionSpec, A + B> out{};
  for (std::size_t i = 0; i < A; ++i) out[i] = a[i];
  for (std::size_t i = 0; i < B; ++i) out[A + i] = b[i];
  return out;
}

struct Outgoing {
  std::string topic;
  std::string payload;
};

class MqttDevice : public Device {
 public:
  MqttDevice(const config::DeviceConfig& config, DeviceHost& host, MqttCommon common);
  ~MqttDevice() override;

  // A little longer than confirm_timeout, so that the driver's own timeout,
  // which says what was missing, comes first.
  Duration command_timeout() const override {
    return common_.confirm_timeout + std::chrono::seconds(5);
  }
  void start() override;
  void apply(const DeviceCommand& command) override;
  void stop(std::function<void()> done) override;

 protected:
  // What to publish for `command` (already limited to the device's
  // capabilities).
  virtual std::vector<Outgoing> encode(const DeviceCommand& command) = 0;
  // The values the device reports once it has carried `command` out: the
  // command as the device's own scale rounds it (decode of encode).
  virtual DeviceValues expected(const DeviceCommand& command) = 0;
  // Called each time the broker link (re)comes up, after the subscriptions
  // are renewed: ask the device for its state where it can be asked.
  virtual void on_link_up() {}

  // Subscribes to `topic` at start (call from the constructor).
  void listen(std::string topic, std::function<void(const PubSubMessage&)> handler);
  // What the device says it has now; `fading` when its payload itself says
  // it is on its way (most devices do not say).
  void observed(const DeviceValues& values, bool fading = false);
  // A payload that cannot be taken: changes nothing, logged once per topic
  // until a good one arrives there.
  void bad_payload(const PubSubMessage& message, std::string_view why);
  void good_payload(const std::string& topic) { bad_topics_.erase(topic); }
  void publish(Outgoing message);

  DeviceHost& host_;
  Logger log_;

 private:
  struct Pending {
    CommandId id = 0;
    DeviceValues expected;
    DeviceValues seen;  // every value reported since it was sent
    TimePoint sent_at;
    Duration transition{0};
    std::unique_ptr<Alarm> timeout;
  };
  struct Fading {
    CommandId id = 0;
    DeviceValues expected;
    TimePoint until;
  };
  void on_link(bool up);
  void on_availability_message(const PubSubMessage& message);
  void set_availability(Availability availability, std::string reason);
  void await_state(std::string reason);
  std::string offline_reason() const;
  void end_pending(std::size_t count, CommandOutcome outcome, const std::string& reason);
  void fail_all(const std::string& reason);
  void time_out(CommandId id);

  MqttCommon common_;
  std::vector<std::pair<std::string, std::function<void(const PubSubMessage&)>>> listens_;
  std::vector<std::unique_ptr<PubSub::Handle>> handles_;
  std::optional<bool> device_online_;  // from its LWT; nullopt: not heard yet
  Availability availability_ = Availability::Unknown;
  std::string availability_reason_;
  bool link_up_ = false;
  std::unique_ptr<Alarm> grace_;  // waiting for a retained LWT after the link came up
  std::vector<Pending> pending_;  // oldest first
  std::optional<Fading> fading_;
  std::optional<DeviceValues> held_;  // a state that contradicts the command in flight
  std::set<std::string> bad_topics_;
};

// Every field of `expected` that `seen` has, and has as the hub would take
// it (within the hub's tolerance); levels of a capability that is off are
// not compared.
bool confirms(const DeviceValues& expected, const DeviceValues& seen);

}  // namespace nursery::plugins::mqtt_common
