#pragma once
// A D-Bus value as the BLE library sees it, free of any D-Bus library's
// types, so that only ble/sdbus_bus.cpp knows sdbus-c++. A value read from
// the bus keeps its D-Bus type (an "n" RSSI is not a "q"); variants are
// unwrapped on reading. A value to be written carries its type too: the
// factories below set it, and a container names its element type so that an
// empty array still has a signature.
// Thread: any (plain data). Nothing here throws.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace nursery::ble {

using Bytes = std::vector<std::uint8_t>;

struct ObjectPath {
  std::string value;
  friend bool operator==(const ObjectPath&, const ObjectPath&) = default;
};

class Value;

// An array of `element` (a single complete D-Bus type, e.g. "s", "v", "(ss)").
struct Array {
  std::string element;
  std::vector<Value> items;
};

struct DictEntry;

// "a{" + key + value + "}". With value "v", each entry's value is written as
// a variant of its own type.
struct Dict {
  std::string key;
  std::string value;
  std::vector<DictEntry> entries;
};

class Value {
 public:
  using Data = std::variant<std::monostate, bool, std::uint8_t, std::int16_t, std::uint16_t,
                            std::int32_t, std::uint32_t, std::int64_t, std::uint64_t, double,
                            std::string, ObjectPath, Bytes, Array, Dict>;

  Value() = default;
  explicit Value(Data data) : data_(std::move(data)) {}

  static Value boolean(bool v) { return Value(Data(v)); }
  static Value byte(std::uint8_t v) { return Value(Data(v)); }
  static Value int16(std::int16_t v) { return Value(Data(v)); }
  static Value uint16(std::uint16_t v) { return Value(Data(v)); }
  static Value uint32(std::uint32_t v) { return Value(Data(v)); }
  static Value string(std::string v) { return Value(Data(std::move(v))); }
  static Value path(std::string v) { return Value(Data(ObjectPath{std::move(v)})); }
  static Value bytes(Bytes v) { return Value(Data(std::move(v))); }
  static Value strings(const std::vector<std::string>& v);
  // a{sv} from name/value pairs.
  static Value options(std::vector<std::pair<std::string, Value>> entries);

  const Data& data() const { return data_; }
  bool empty() const { return std::holds_alternative<std::monostate>(data_); }
  // The D-Bus signature of this value ("" for an empty Value).
  std::string signature() const;

  std::optional<bool> as_bool() const;
  // Any integer type (y, n, q, i, u, x, t).
  std::optional<std::int64_t> as_int() const;
  // A string or an object path.
  const std::string* as_string() const;
  const Bytes* as_bytes() const;
  // An array of strings or object paths; empty for anything else.
  std::vector<std::string> as_strings() const;
  const Array* as_array() const { return std::get_if<Array>(&data_); }
  const Dict* as_dict() const { return std::get_if<Dict>(&data_); }

 private:
  Data data_;
};

struct DictEntry {
  Value key;
  Value value;
};

}  // namespace nursery::ble
