#include "daemon/schedule/time_text.hpp"

#include <date/date.h>
#include <fmt/format.h>

#include <cstdint>
#include <iterator>
#include <utility>

namespace nursery::schedule {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits at `pos`, advancing it; nullopt when they are not all digits.
std::optional<int> fixed_digits(std::string_view text, std::size_t& pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<TimeOfDay> parse_time_of_day(std::string_view text) {
  if (text.size() != 5) return std::nullopt;
  std::size_t pos = 0;
  const auto hours = fixed_digits(text, pos, 2);
  if (!hours || !expect(text, pos, ':')) return std::nullopt;
  const auto minutes = fixed_digits(text, pos, 2);
  if (!minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  return TimeOfDay{std::chrono::minutes{*hours * 60 + *minutes}};
}

std::string format_time_of_day(TimeOfDay time) {
  const auto m = time.since_midnight.count();
  return fmt::format("{:02}:{:02}", m / 60, m % 60);
}

// Numbers above a billion are refused so that the sum cannot overflow.
std::optional<Seconds> parse_duration(std::string_view text) {
  constexpr std::int64_t kMaxNumber = 1'000'000'000;
  constexpr std::pair<char, std::int64_t> kUnits[] = {{'h', 3600}, {'m', 60}, {'s', 1}};
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t unit = 0;  // index of the next unit allowed: order h, m, s, each once
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t first_digit = pos;
    std::int64_t number = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      number = number * 10 + (text[pos] - '0');
      if (number > kMaxNumber) return std::nullopt;
    }
    if (pos == first_digit || pos == text.size()) return std::nullopt;  // no number, or no unit
    const char written = text[pos++];
    while (unit < std::size(kUnits) && kUnits[unit].first != written) ++unit;
    if (unit == std::size(kUnits)) return std::nullopt;  // unknown unit, or out of order
    total += number * kUnits[unit].second;
    ++unit;
  }
  return Seconds{total};
}

std::optional<Seconds> parse_offset(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  auto d = parse_duration(text);
  if (!d) return std::nullopt;
  return negative ? -*d : *d;
}

std::string format_duration(Seconds d) {
  std::string out = d < Seconds::zero() ? "-" : "";
  const auto total = d < Seconds::zero() ? -d.count() : d.count();
  if (total == 0) return "0m";
  const auto h = total / 3600;
  const auto m = total / 60 % 60;
  const auto s = total % 60;
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (s) out += fmt::format("{}s", s);
  return out;
}

std::optional<Instant> parse_instant(std::string_view text) {
  std::size_t pos = 0;
  const auto year = fixed_digits(text, pos, 4);
  if (!year || !expect(text, pos, '-')) return std::nullopt;
  const auto month = fixed_digits(text, pos, 2);
  if (!month || !expect(text, pos, '-')) return std::nullopt;
  const auto day = fixed_digits(text, pos, 2);
  if (!day || !expect(text, pos, 'T')) return std::nullopt;
  const auto hour = fixed_digits(text, pos, 2);
  if (!hour || !expect(text, pos, ':')) return std::nullopt;
  const auto minute = fixed_digits(text, pos, 2);
  if (!minute || !expect(text, pos, ':')) return std::nullopt;
  const auto second = fixed_digits(text, pos, 2);
  if (!second) return std::nullopt;

  const date::year_month_day ymd{date::year{*year}, date::month(static_cast<unsigned>(*month)),
                                 date::day(static_cast<unsigned>(*day))};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;

  std::chrono::milliseconds fraction{0};
  if (expect(text, pos, '.')) {
    const std::size_t first = pos;
    int scale = 100;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      fraction += std::chrono::milliseconds{(text[pos] - '0') * scale};
      scale /= 10;  // digits past the millisecond count as 0
    }
    if (pos == first) return std::nullopt;
  }

  std::chrono::minutes offset{0};
  if (expect(text, pos, 'Z')) {
    // UTC
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool negative = text[pos++] == '-';
    const auto oh = fixed_digits(text, pos, 2);
    if (!oh || !expect(text, pos, ':')) return std::nullopt;
    const auto om = fixed_digits(text, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = std::chrono::minutes{*oh * 60 + *om};
    if (negative) offset = -offset;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const auto local = date::sys_days{ymd} + std::chrono::hours{*hour} +
                     std::chrono::minutes{*minute} + std::chrono::seconds{*second} + fraction;
  return Instant{local - offset};
}

std::string format_utc(Instant t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  if (secs == t) return date::format("%FT%TZ", secs);
  return date::format("%FT%TZ", t);
}

}  // namespace nursery::schedule
