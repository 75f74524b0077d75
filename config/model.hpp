#pragma once
// The configuration model: plain data, filled by the TOML loader (loader.hpp)
// and read by everything else. Every default here is the shipped default and
// is repeated, with its reason, in config/nurseryd.toml.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "daemon/schedule/schedule.hpp"
#include "values.hpp"

namespace nursery::config {

using Seconds = std::chrono::seconds;

// Where a value came from, for messages of the form FILE:LINE:COL.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;  // "file:line:col" (or "file" when line is 0)
};

struct Diagnostic {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  Location where;
  std::string message;
  // "FILE:LINE:COL: message" for errors, "FILE:LINE:COL: warning: message" for
  // warnings; escaped with escape_text (config/text.hpp), so always one line.
  std::string to_string() const;
};

struct HubConfig {
  std::string name = "Nursery hub";
  std::string time_zone = "UTC";  // IANA name, checked against the tz database
  double latitude = 0.0;          // for sunrise/sunset (scheduler issue)
  double longitude = 0.0;
};

struct ChildConfig {
  std::string name = "Baby";
  // Decides the massage session length. When absent the shortest (youngest)
  // session length applies: the safe side.
  std::optional<std::chrono::sys_days> birth_date;
};

// The wake light of a room ([rooms.wake]): when the baby's morning begins,
// and the `wake` routine the loader builds for it (wake_routine()): a
// sunrise of `ramp` that ends at the wake time, from the night colour to the
// wake ceiling, white noise fading out over the same ramp and off at the wake
// time, then, if `ok_to_wake` is set, the "OK to wake" light held that long
// and switched off.
struct WakeConfig {
  // A wall-clock wake time per weekday (0 = Sunday .. 6 = Saturday), in
  // minutes after midnight; `at` fills the days not named.
  std::array<std::optional<int>, 7> by_weekday{};
  // Or: the wake time is this long after the bedtime routine began.
  std::optional<Seconds> night_length;
  Seconds ramp{30 * 60};  // 15m..60m
  std::string routine = "wake";
  Seconds ok_to_wake{0};  // 0: no "OK to wake" light
  Level ok_to_wake_brightness = Level::permille(600);
  int ok_to_wake_color_temp = 4000;
  Location where;
};

struct RoomConfig {
  std::string id;
  std::string name;
  std::string default_routine = "bedtime";
  // [[rooms.schedules]]: imported into the store once, when it holds no
  // schedules for this room; from then on the store's list is the one in
  // force (changed through the API and nurseryctl).
  std::vector<schedule::Schedule> schedules;
  std::optional<WakeConfig> wake;
  Location where;
};

// A driver-specific option, typed as TOML gave it.
struct DriverOption {
  std::variant<bool, std::int64_t, double, std::string> value;
  Location where;
};

struct DeviceConfig {
  std::string id;
  std::string name;  // defaults to id
  std::string room;
  std::string driver;
  std::map<std::string, DriverOption> options;  // every key not listed above
  Location where;
};

// Two blocks describe the same device (where they are written aside): a
// reload keeps such a device as it is, without reconnecting it.
bool same_device(const DeviceConfig& a, const DeviceConfig& b);

enum class RoutineKind { Bedtime, Wake, Other };

struct StepConfig {
  Seconds at{0};  // offset from the routine's start, in routine time (pauses excluded)
  Role role = Capability::Light;
  Seconds fade{0};  // how long the move from the previous values to these takes
  DeviceValues values;
  Location where;
};

struct RoutineConfig {
  std::string id;
  std::string name;
  RoutineKind kind = RoutineKind::Other;
  std::vector<StepConfig> steps;  // sorted by `at` (stable) by the loader
  Location where;
};

// Defaults from ../shared/docs/safety-defaults.md. Hard bounds are enforced by
// the loader (see kHard* below) so a config can loosen a limit only so far.
struct SoundSafety {
  Level max_volume = Level::permille(500);
  Seconds auto_off{12 * 3600};
};
struct MassageSafety {
  // In any rolling window of this length the massager runs at most one
  // session length for the child's age, however the time is split.
  Seconds rolling_window{60 * 60};
  Level max_intensity = Level::permille(600);
  Level start_intensity = Level::permille(300);  // a session starts at no more than this
  Seconds session_under_6_weeks{10 * 60};
  Seconds session_6_to_12_weeks{15 * 60};
  Seconds session_from_3_months{20 * 60};
};
struct LightSafety {
  Level night_max_brightness = Level::permille(100);
  int night_max_color_temp = 2200;
  // Night lasts from the start of a bedtime routine until a wake routine
  // starts, or at most this long.
  Seconds night_window{14 * 3600};
  // While a wake routine runs, its sunrise rises no higher than this.
  Level wake_max_brightness = Level::permille(600);
  int wake_max_color_temp = 4000;
};
struct SafetyConfig {
  SoundSafety sound;
  MassageSafety massage;
  LightSafety light;
};

// [mqtt]: the hub on an MQTT broker (mqtt/bridge). Absent (no `uri`) means
// MQTT is off. Read at start only: a reload that changes it is told to
// restart.
struct MqttTlsConfig {
  std::string ca_file;    // PEM; empty: the system's trust store
  std::string cert_file;  // client certificate, with key_file
  std::string key_file;
  bool verify = true;  // the broker's certificate and host name
};
struct MqttConfig {
  std::string uri;  // tcp://host:port, ssl://host:port (mqtt://, mqtts://)
  // Empty: "nurseryd-" and the base topic, stable across restarts.
  std::string client_id;
  std::string username;
  std::string password;  // from `password` or the file `password_file` names
  std::string base_topic = "nursery";
  std::string discovery_prefix = "homeassistant";
  Seconds keep_alive{30};
  int qos = 1;
  MqttTlsConfig tls;
  std::size_t max_payload = 64 * 1024;  // bytes of an incoming message
  Location where;                       // the [mqtt] table
  Location uri_where;                   // its uri value
};
inline constexpr Seconds kMinWakeRamp{15 * 60};
inline constexpr Seconds kMaxWakeRamp{60 * 60};

// The routine a room's [rooms.wake] stands for (kind wake, id wake.routine).
// `night_volume` is the volume the room's bedtime routine leaves the sound
// at, which the fade-out starts from (none: the sound is only switched off
// at the wake time).
RoutineConfig wake_routine(const WakeConfig& wake, const SafetyConfig& safety,
                           std::optional<Level> night_volume);

inline constexpr Seconds kHardMaxSoundAutoOff{12 * 3600};
inline constexpr Seconds kHardMaxMassageSession{30 * 60};

struct Config {
  std::string source;  // the file it was read from
  HubConfig hub;
  ChildConfig child;
  SafetyConfig safety;
  std::vector<RoomConfig> rooms;
  std::vector<DeviceConfig> devices;
  std::vector<RoutineConfig> routines;
  std::optional<MqttConfig> mqtt;  // nullopt: no [mqtt] table, MQTT off

  const RoomConfig* find_room(std::string_view id) const;
  const RoutineConfig* find_routine(std::string_view id) const;
};

}  // namespace nursery::config
