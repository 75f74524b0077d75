#pragma once
// The values a device can be set to, shared by config (routine steps), the
// core (desired and observed state) and every surface (API, later MQTT).
// All fractions are 0..1 of the device's own scale; colour temperature is in
// kelvin. An empty optional means "not part of this state / command".

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nursery {

enum class Capability : unsigned { Light = 1, Sound = 2, Massager = 4 };

using Capabilities = unsigned;  // bitwise OR of Capability values

constexpr bool has(Capabilities set, Capability c) { return (set & static_cast<unsigned>(c)) != 0; }
constexpr Capabilities operator|(Capability a, Capability b) {
  return static_cast<unsigned>(a) | static_cast<unsigned>(b);
}

// A routine step addresses the devices of a room by the role they play.
using Role = Capability;
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct DeviceValues {
  std::optional<bool> on;
  std::optional<double> brightness;    // Light, 0..1
  std::optional<int> color_temp;       // Light, kelvin
  std::optional<double> volume;        // Sound, 0..1
  std::optional<std::string> track;    // Sound, e.g. "white-noise"
  std::optional<double> intensity;     // Massager, 0..1
  std::optional<std::string> pattern;  // Massager, e.g. "wave"

  static DeviceValues off() {
    DeviceValues v;
    v.on = false;
    return v;
  }
  bool empty() const;
  // Copies every value that `other` has over this one.
  void merge(const DeviceValues& other);
  bool operator==(const DeviceValues&) const = default;
};

// The bounds of what a value can physically be (not safety limits: those are
// policy and live in SafetyConfig). Shared by every parser so that the config,
// the API and MQTT reject the same things with the same words.
inline constexpr int kMinColorTemp = 1000;
inline constexpr int kMaxColorTemp = 10000;

// Returns an error message when `value` is outside what field `name` can be.
std::optional<std::string> check_fraction(std::string_view name, double value);
std::optional<std::string> check_color_temp(int kelvin);

// The alphabets and lengths of names, one check per kind. Each returns an
// error message naming `what` (e.g. "room id", "track") and the rule, or
// nullopt when the name is fine. The config loader and every surface's
// parser call the same check, so they accept and refuse the same names.
//
// An id (of a room, device or routine) is what an API path, a command line
// and a topic carry: 1 to 32 of a-z, 0-9, '-' and '_'.
inline constexpr std::size_t kMaxIdLength = 32;
std::optional<std::string> check_id(std::string_view what, std::string_view id);
// A display name (the hub's, the child's, a room's, a device's, a
// routine's) is shown to parents: 1 to 64 characters (code points) of
// valid UTF-8, not only spaces, and nothing unprintable (see is_unprintable
// in config/text.hpp: control characters, DEL, C1, line separators,
// bidirectional overrides).
inline constexpr std::size_t kMaxDisplayNameLength = 64;
std::optional<std::string> check_display_name(std::string_view what, std::string_view name);
// A token names something a device plays (a sound `track`, a massage
// `pattern`): 1 to 32 of a-z, 0-9, '-' and '_' ("white-noise", "wave";
// every Hatch Rest track name fits).
inline constexpr std::size_t kMaxTokenLength = 32;
std::optional<std::string> check_token(std::string_view what, std::string_view token);

// How values read to a parent, in logs, events and the demo:
// "on, brightness 10%, 2200 K", "playing white-noise, volume 30%".
std::string describe_fraction(double value);  // "10%"
std::string describe(const DeviceValues& values);

// Which capability a value belongs to; nullopt for an unknown field name.
std::optional<Capability> capability_of_field(std::string_view field);

}  // namespace nursery
