#include "ble/dbus_value.hpp"

#include <type_traits>

namespace nursery::ble {

Value Value::strings(const std::vector<std::string>& v) {
  Array a{"s", {}};
  a.items.reserve(v.size());
  for (const auto& s : v) a.items.push_back(Value::string(s));
  return Value(Data(std::move(a)));
}

Value Value::options(std::vector<std::pair<std::string, Value>> entries) {
  Dict d{"s", "v", {}};
  d.entries.reserve(entries.size());
  for (auto& [name, value] : entries)
    d.entries.push_back(DictEntry{Value::string(std::move(name)), std::move(value)});
  return Value(Data(std::move(d)));
}

std::string Value::signature() const {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) return "";
        if constexpr (std::is_same_v<T, bool>) return "b";
        if constexpr (std::is_same_v<T, std::uint8_t>) return "y";
        if constexpr (std::is_same_v<T, std::int16_t>) return "n";
        if constexpr (std::is_same_v<T, std::uint16_t>) return "q";
        if constexpr (std::is_same_v<T, std::int32_t>) return "i";
        if constexpr (std::is_same_v<T, std::uint32_t>) return "u";
        if constexpr (std::is_same_v<T, std::int64_t>) return "x";
        if constexpr (std::is_same_v<T, std::uint64_t>) return "t";
        if constexpr (std::is_same_v<T, double>) return "d";
        if constexpr (std::is_same_v<T, std::string>) return "s";
        if constexpr (std::is_same_v<T, ObjectPath>) return "o";
        if constexpr (std::is_same_v<T, Bytes>) return "ay";
        if constexpr (std::is_same_v<T, Array>) return "a" + v.element;
        if constexpr (std::is_same_v<T, Dict>) return "a{" + v.key + v.value + "}";
      },
      data_);
}

std::optional<bool> Value::as_bool() const {
  if (const bool* b = std::get_if<bool>(&data_)) return *b;
  return std::nullopt;
}

std::optional<std::int64_t> Value::as_int() const {
  return std::visit(
      [](const auto& v) -> std::optional<std::int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if constexpr (std::is_same_v<T, std::uint64_t>) {
            if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
          }
          return static_cast<std::int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      data_);
}

const std::string* Value::as_string() const {
  if (const auto* s = std::get_if<std::string>(&data_)) return s;
  if (const auto* p = std::get_if<ObjectPath>(&data_)) return &p->value;
  return nullptr;
}

const Bytes* Value::as_bytes() const { return std::get_if<Bytes>(&data_); }

std::vector<std::string> Value::as_strings() const {
  std::vector<std::string> out;
  if (const auto* a = as_array()) {
    for (const auto& item : a->items)
      if (const auto* s = item.as_string()) out.push_back(*s);
  }
  return out;
}

}  // namespace nursery::ble
