#include "mqtt/topic.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>

namespace nursery::mqtt {
namespace {

constexpr std::size_t kMaxTopicBytes = 65535;  // a 16-bit length prefix on the wire

// Quoted for a log line or an error: control bytes would garble either.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (text.size() > 200) out += "...";
  return out;
}

Error topic_error(std::string code, std::string_view what, std::string_view text,
                  std::string_view fault) {
  return Error{std::move(code), fmt::format("{} \"{}\" {}", what, printable(text), fault), 400};
}

// The faults shared by names, filters and segments; empty when there are none.
std::string_view common_fault(std::string_view text) {
  if (text.empty()) return "is empty";
  if (text.size() > kMaxTopicBytes) return "is longer than 65535 bytes";
  if (text.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (!is_valid_utf8(text)) return "is not valid UTF-8";
  return {};
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<std::uint8_t>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<std::uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    constexpr std::uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  if (!validate_topic_filter(filter).ok() || topic.empty()) return false;
  if (topic.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;
  std::size_t f = 0;
  std::size_t t = 0;
  for (;;) {
    std::size_t f_end = filter.find('/', f);
    std::string_view f_level =
        filter.substr(f, f_end == std::string_view::npos ? std::string_view::npos : f_end - f);
    if (f_level == "#") return true;  // matches the parent level and everything below it
    std::size_t t_end = topic.find('/', t);
    std::string_view t_level =
        topic.substr(t, t_end == std::string_view::npos ? std::string_view::npos : t_end - t);
    if (f_level != "+" && f_level != t_level) return false;
    const bool filter_last = f_end == std::string_view::npos;
    const bool topic_last = t_end == std::string_view::npos;
    if (filter_last || topic_last) {
      if (filter_last && topic_last) return true;
      // "a/#" also matches "a": the filter's next level is a lone '#'.
      return topic_last && filter.substr(f_end + 1) == "#";
    }
    f = f_end + 1;
    t = t_end + 1;
  }
}

Status validate_topic_name(std::string_view topic) {
  if (auto fault = common_fault(topic); !fault.empty())
    return topic_error("invalid_topic", "topic", topic, fault);
  if (topic.find_first_of("+#") != std::string_view::npos)
    return topic_error("invalid_topic", "topic", topic,
                       "contains a wildcard ('+' or '#'), which a published topic may not");
  return Ok{};
}

Status validate_topic_filter(std::string_view filter) {
  if (auto fault = common_fault(filter); !fault.empty())
    return topic_error("invalid_topic_filter", "topic filter", filter, fault);
  std::size_t start = 0;
  for (;;) {
    std::size_t end = filter.find('/', start);
    std::string_view level =
        filter.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (level.find_first_of("+#") != std::string_view::npos) {
      if (level.size() != 1)
        return topic_error("invalid_topic_filter", "topic filter", filter,
                           "has a wildcard that does not fill a whole level");
      if (level == "#" && end != std::string_view::npos)
        return topic_error("invalid_topic_filter", "topic filter", filter,
                           "has '#' before its last level");
    }
    if (end == std::string_view::npos) return Ok{};
    start = end + 1;
  }
}

Status validate_topic_segment(std::string_view segment) {
  if (auto fault = common_fault(segment); !fault.empty())
    return topic_error("invalid_topic_segment", "topic level", segment, fault);
  if (segment.find_first_of("/+#") != std::string_view::npos)
    return topic_error("invalid_topic_segment", "topic level", segment,
                       "contains '/', '+' or '#', which would change the topic's shape");
  return Ok{};
}

}  // namespace nursery::mqtt
