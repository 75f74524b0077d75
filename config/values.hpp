#pragma once
// The values a device can be set to, shared by config (routine steps), the
// core (asked, applied and observed state) and every surface (API, MQTT).
//
// State is per capability: a light-and-sound device (a Hatch Rest) has a
// light that is on or off and a sound that is on or off, independently.
// Levels (brightness, volume, intensity) are exact thousandths of the
// device's own scale, so a limit of 35 % is exactly 350 and a fade never
// prints 0.47000000000000003. Colour temperature is whole kelvin.
//
// Every field is listed once, in kFields: its name, capability, kind and
// range. The loader, the JSON codec, the engine, the hub and the drivers
// iterate that table instead of naming fields by hand.
// Pure values and functions: any thread, nothing throws.

#include <array>
#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace nursery {

enum class Capability : unsigned { Light = 1, Sound = 2, Massager = 4 };
inline constexpr Capability kAllCapabilities[] = {Capability::Light, Capability::Sound,
                                                  Capability::Massager};

using Capabilities = unsigned;  // bitwise OR of Capability values

constexpr Capabilities bit(Capability c) { return static_cast<unsigned>(c); }
constexpr bool has(Capabilities set, Capability c) { return (set & bit(c)) != 0; }
constexpr Capabilities operator|(Capability a, Capability b) { return bit(a) | bit(b); }
constexpr Capabilities operator|(Capabilities a, Capability b) { return a | bit(b); }

// A routine step addresses the devices of a room by the role they play.
using Role = Capability;
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

// A level in exact thousandths (permille) of a device's scale, 0..1000.
class Level {
 public:
  constexpr Level() = default;
  static constexpr Level permille(int p) { return Level(p); }
  // Rounds to the nearest thousandth; nullopt outside 0..1 (and for NaN).
  static std::optional<Level> from_fraction(double fraction);
  constexpr int permille() const { return permille_; }
  constexpr double fraction() const { return permille_ / 1000.0; }
  constexpr auto operator<=>(const Level&) const = default;

 private:
  constexpr explicit Level(int p) : permille_(p) {}
  int permille_ = 0;
};

inline constexpr Level kLevelMax = Level::permille(1000);
// What a person can see or hear change: 1 % of a level.
inline constexpr int kVisibleLevelStep = 10;  // permille
// ... and 25 K of colour.
inline constexpr int kVisibleColorStep = 25;

// The bounds of what a value can physically be (not safety limits: those are
// policy and live in SafetyConfig). Shared by every parser so that the
// config, the API and MQTT reject the same things with the same words.
inline constexpr int kMinColorTemp = 1000;
inline constexpr int kMaxColorTemp = 10000;

struct DeviceValues {
  std::optional<bool> light_on;
  std::optional<Level> brightness;
  std::optional<int> color_temp;  // kelvin
  std::optional<bool> sound_on;
  std::optional<Level> volume;
  std::optional<std::string> track;  // e.g. "white-noise"
  std::optional<bool> massager_on;
  std::optional<Level> intensity;
  std::optional<std::string> pattern;  // e.g. "wave"

  // The on/off switch of one capability.
  std::optional<bool>& on(Capability c);
  const std::optional<bool>& on(Capability c) const;
  bool is_on(Capability c) const { return on(c) == true; }

  // Only the fields of these capabilities.
  DeviceValues only(Capabilities capabilities) const;
  // Switches off every capability in the set (and sets nothing else).
  static DeviceValues off(Capabilities capabilities);

  bool empty() const;
  // Copies every value that `other` has over this one.
  void merge(const DeviceValues& other);
  // Removes every field that `other` has.
  void erase(const DeviceValues& other);
  bool operator==(const DeviceValues&) const = default;
};

// --- The table of fields ----------------------------------------------------

enum class FieldKind { Switch, Level, Kelvin, Token };

using FieldMember =
    std::variant<std::optional<bool> DeviceValues::*, std::optional<Level> DeviceValues::*,
                 std::optional<int> DeviceValues::*, std::optional<std::string> DeviceValues::*>;

struct Field {
  std::string_view name;  // in config and JSON; the switch of every capability is "on"
  Capability capability;
  FieldKind kind;
  FieldMember member;
};

inline constexpr std::array<Field, 9> kFields{{
    {"on", Capability::Light, FieldKind::Switch, &DeviceValues::light_on},
    {"brightness", Capability::Light, FieldKind::Level, &DeviceValues::brightness},
    {"color_temp", Capability::Light, FieldKind::Kelvin, &DeviceValues::color_temp},
    {"on", Capability::Sound, FieldKind::Switch, &DeviceValues::sound_on},
    {"volume", Capability::Sound, FieldKind::Level, &DeviceValues::volume},
    {"track", Capability::Sound, FieldKind::Token, &DeviceValues::track},
    {"on", Capability::Massager, FieldKind::Switch, &DeviceValues::massager_on},
    {"intensity", Capability::Massager, FieldKind::Level, &DeviceValues::intensity},
    {"pattern", Capability::Massager, FieldKind::Token, &DeviceValues::pattern},
}};

// The field of a capability by name, or null.
const Field* find_field(Capability capability, std::string_view name);
// The capability a non-switch field name belongs to ("brightness" -> Light).
std::optional<Capability> capability_of_field(std::string_view name);
// "on, brightness, color_temp, volume, track, intensity, pattern"
std::string field_names();

// Calls f(field, member) for every field, with `member` the pointer to its
// std::optional<T> in DeviceValues: `values.*member`.
template <typename F>
void for_each_member(F&& f) {
  for (const Field& field : kFields)
    std::visit([&](auto member) { f(field, member); }, field.member);
}
// Calls f(field, std::optional<T>&) for every field of `values`.
template <typename Values, typename F>
void for_each_field(Values& values, F&& f) {
  for_each_member([&](const Field& field, auto member) { f(field, values.*member); });
}

// The fields of `wanted` that `have` lacks or has otherwise.
DeviceValues changed_fields(const DeviceValues& wanted, const DeviceValues& have);

// --- Checks shared by every parser -------------------------------------------

// Error messages (nullopt when fine) for a value of a field.
std::optional<std::string> check_fraction(std::string_view name, double value);
std::optional<std::string> check_color_temp(long long kelvin);
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

// --- How values read to a parent, in logs, events and the demo ---------------

std::string describe(Level level);  // "10%", "0.5%", "35.5%"
// "light on, brightness 10%, 2200 K; sound on, playing white-noise, volume 30%".
// The capability is named only when there is more than one.
std::string describe(const DeviceValues& values);

}  // namespace nursery
