#include "values.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <vector>

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
