#include "values.hpp"

#include <fmt/format.h>

namespace nursery {

std::string_view role_name(Role role) {
  switch (role) {
    case Capability::Light: return "light";
    case Capability::Sound: return "sound";
    case Capability::Massager: return "massager";
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

std::optional<Capability> capability_of_field(std::string_view field) {
  if (field == "brightness" || field == "color_temp") return Capability::Light;
  if (field == "volume" || field == "track") return Capability::Sound;
  if (field == "intensity" || field == "pattern") return Capability::Massager;
  return std::nullopt;
}

}  // namespace nursery
