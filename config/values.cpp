#include "values.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "text.hpp"

namespace nursery {

std::string_view role_name(Role role) {
  switch (role) {
    case Capability::Light:
      return "light";
    case Capability::Sound:
      return "sound";
    case Capability::Massager:
      return "massager";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "light") return Capability::Light;
  if (name == "sound") return Capability::Sound;
  if (name == "massager") return Capability::Massager;
  return std::nullopt;
}

bool DeviceValues::empty() const {
  return !on && !brightness && !color_temp && !volume && !track && !intensity && !pattern;
}

void DeviceValues::merge(const DeviceValues& other) {
  if (other.on) on = other.on;
  if (other.brightness) brightness = other.brightness;
  if (other.color_temp) color_temp = other.color_temp;
  if (other.volume) volume = other.volume;
  if (other.track) track = other.track;
  if (other.intensity) intensity = other.intensity;
  if (other.pattern) pattern = other.pattern;
}

std::optional<std::string> check_fraction(std::string_view name, double value) {
  if (!(value >= 0.0 && value <= 1.0))  // also rejects NaN
    return fmt::format("{} must be between 0 and 1 (a fraction of the device's scale), got {}",
                       name, value);
  return std::nullopt;
}

std::optional<std::string> check_color_temp(int kelvin) {
  if (kelvin < kMinColorTemp || kelvin > kMaxColorTemp)
    return fmt::format("color_temp must be between {} and {} kelvin, got {}", kMinColorTemp,
                       kMaxColorTemp, kelvin);
  return std::nullopt;
}

namespace {

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// The rule of ids and tokens: a-z, 0-9, '-', '_', 1..max bytes.
std::optional<std::string> check_slug(std::string_view what, std::string_view text,
                                      std::size_t max) {
  if (text.size() > max)
    return fmt::format("{} \"{}...\" is {} characters long; at most {} are allowed", what,
                       escape_text(text.substr(0, max)), text.size(), max);
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_id_char))
    return fmt::format("invalid {} \"{}\" (use 1 to {} of a-z, 0-9, '-' and '_')", what,
                       escape_text(text), max);
  return std::nullopt;
}

// A name as quoted in a message: escaped, and cut short when long.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 80;
  if (text.size() <= kMaxQuoted) return fmt::format("\"{}\"", escape_text(text));
  return fmt::format("\"{}...\"", escape_text(text.substr(0, kMaxQuoted)));
}

}  // namespace

std::optional<std::string> check_id(std::string_view what, std::string_view id) {
  return check_slug(what, id, kMaxIdLength);
}

std::optional<std::string> check_token(std::string_view what, std::string_view token) {
  return check_slug(what, token, kMaxTokenLength);
}

std::optional<std::string> check_display_name(std::string_view what, std::string_view name) {
  if (name.empty()) return fmt::format("{} must not be empty", what);
  std::size_t characters = 0;
  bool only_spaces = true;
  for (std::size_t i = 0; i < name.size();) {
    const auto step = decode_utf8(name, i);
    if (step.length == 0)
      return fmt::format("{} is not valid UTF-8 (byte {} of {})", what, i + 1, quoted(name));
    if (is_unprintable(step.code_point))
      return fmt::format(
          "{} {} contains a control or invisible character; a name is printable text on one "
          "line",
          what, quoted(name));
    if (step.code_point != U' ') only_spaces = false;
    ++characters;
    i += step.length;
  }
  if (only_spaces) return fmt::format("{} must not be only spaces", what);
  if (characters > kMaxDisplayNameLength)
    return fmt::format("{} is {} characters long; at most {} are allowed", what, characters,
                       kMaxDisplayNameLength);
  return std::nullopt;
}

std::string describe_fraction(double value) {
  return fmt::format("{}%", std::lround(value * 100.0));
}

std::string describe(const DeviceValues& v) {
  std::vector<std::string> parts;
  if (v.on) parts.push_back(*v.on ? "on" : "off");
  if (v.brightness) parts.push_back(fmt::format("brightness {}", describe_fraction(*v.brightness)));
  if (v.color_temp) parts.push_back(fmt::format("{} K", *v.color_temp));
  if (v.track) parts.push_back(fmt::format("playing {}", *v.track));
  if (v.volume) parts.push_back(fmt::format("volume {}", describe_fraction(*v.volume)));
  if (v.pattern) parts.push_back(fmt::format("pattern {}", *v.pattern));
  if (v.intensity) parts.push_back(fmt::format("intensity {}", describe_fraction(*v.intensity)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::optional<Capability> capability_of_field(std::string_view field) {
  if (field == "brightness" || field == "color_temp") return Capability::Light;
  if (field == "volume" || field == "track") return Capability::Sound;
  if (field == "intensity" || field == "pattern") return Capability::Massager;
  return std::nullopt;
}

}  // namespace nursery
