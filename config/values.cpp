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
  for (Capability c : kAllCapabilities)
    if (role_name(c) == name) return c;
  return std::nullopt;
}

std::optional<Level> Level::from_fraction(double fraction) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) return std::nullopt;  // also NaN
  return Level(static_cast<int>(std::lround(fraction * 1000.0)));
}

std::optional<bool>& DeviceValues::on(Capability c) {
  switch (c) {
    case Capability::Light:
      return light_on;
    case Capability::Sound:
      return sound_on;
    case Capability::Massager:
      break;
  }
  return massager_on;
}

const std::optional<bool>& DeviceValues::on(Capability c) const {
  return const_cast<DeviceValues*>(this)->on(c);
}

DeviceValues DeviceValues::only(Capabilities capabilities) const {
  DeviceValues out = *this;
  for_each_field(out, [&](const Field& field, auto& value) {
    if (!has(capabilities, field.capability)) value.reset();
  });
  return out;
}

DeviceValues DeviceValues::off(Capabilities capabilities) {
  DeviceValues v;
  for (Capability c : kAllCapabilities)
    if (has(capabilities, c)) v.on(c) = false;
  return v;
}

bool DeviceValues::empty() const {
  bool any = false;
  for_each_field(*this, [&](const Field&, const auto& value) { any = any || value.has_value(); });
  return !any;
}

void DeviceValues::merge(const DeviceValues& other) {
  for_each_member([&](const Field&, auto member) {
    if (other.*member) this->*member = other.*member;
  });
}

void DeviceValues::erase(const DeviceValues& other) {
  for_each_member([&](const Field&, auto member) {
    if (other.*member) (this->*member).reset();
  });
}

const Field* find_field(Capability capability, std::string_view name) {
  for (const Field& field : kFields)
    if (field.capability == capability && field.name == name) return &field;
  return nullptr;
}

std::optional<Capability> capability_of_field(std::string_view name) {
  for (const Field& field : kFields)
    if (field.kind != FieldKind::Switch && field.name == name) return field.capability;
  return std::nullopt;
}

std::string field_names() {
  std::vector<std::string_view> names{"on"};
  for (const Field& field : kFields)
    if (field.kind != FieldKind::Switch) names.push_back(field.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

DeviceValues changed_fields(const DeviceValues& wanted, const DeviceValues& have) {
  DeviceValues out;
  for_each_member([&](const Field&, auto member) {
    if (wanted.*member && wanted.*member != have.*member) out.*member = wanted.*member;
  });
  return out;
}

std::optional<std::string> check_fraction(std::string_view name, double value) {
  if (!(value >= 0.0 && value <= 1.0))  // also rejects NaN
    return fmt::format("{} must be between 0 and 1 (a fraction of the device's scale), got {}",
                       name, value);
  return std::nullopt;
}

std::optional<std::string> check_color_temp(long long kelvin) {
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

std::string describe(Level level) {
  const int p = level.permille();
  if (p % 10 == 0) return fmt::format("{}%", p / 10);
  return fmt::format("{}.{}%", p / 10, p % 10);
}

std::string describe(const DeviceValues& v) {
  std::vector<std::string> groups;
  for (Capability c : kAllCapabilities) {
    std::vector<std::string> parts;
    if (auto on = v.on(c)) parts.push_back(*on ? "on" : "off");
    switch (c) {
      case Capability::Light:
        if (v.brightness) parts.push_back(fmt::format("brightness {}", describe(*v.brightness)));
        if (v.color_temp) parts.push_back(fmt::format("{} K", *v.color_temp));
        break;
      case Capability::Sound:
        if (v.track) parts.push_back(fmt::format("playing {}", *v.track));
        if (v.volume) parts.push_back(fmt::format("volume {}", describe(*v.volume)));
        break;
      case Capability::Massager:
        if (v.pattern) parts.push_back(fmt::format("pattern {}", *v.pattern));
        if (v.intensity) parts.push_back(fmt::format("intensity {}", describe(*v.intensity)));
        break;
    }
    if (!parts.empty())
      groups.push_back(
          fmt::format("{}{}", role_name(c), fmt::format(" {}", fmt::join(parts, ", "))));
  }
  if (groups.size() == 1) {
    // One capability: "on, brightness 10%", as a parent reads a single device.
    auto space = groups[0].find(' ');
    return groups[0].substr(space + 1);
  }
  return fmt::format("{}", fmt::join(groups, "; "));
}

}  // namespace nursery
