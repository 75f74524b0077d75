#pragma once
// A result or an error, for runtime paths (std::expected is C++23; g++ 12 has
// none). Errors carry a stable machine code, a sentence for a person, and
// the HTTP status a surface should answer with.

#include <string>
#include <utility>
#include <variant>

namespace nursery {

struct Error {
  std::string code;     // e.g. "unknown_room", "invalid_value"
  std::string message;  // a full sentence for a parent or an admin
  int http_status = 400;
};

template <typename T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// The result of an operation that returns nothing but may fail.
struct Ok {};
using Status = Expected<Ok>;

}  // namespace nursery
