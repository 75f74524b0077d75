#pragma once
// UTF-8 and text that reaches a person: decoding, locating a bad byte, and
// escaping a string so that it prints as exactly what it is, on one line.
// Shared by the config loader (names, diagnostics) and the log sink, so that
// a string from a config, an API request or a device looks the same
// wherever it is shown. Pure functions: any thread; nothing here throws.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nursery {

// One decoded code point, or the position of the first byte that is not
// valid UTF-8 (a stray continuation byte, an overlong form, a surrogate,
// anything above U+10FFFF, or a sequence cut short by the end of the text).
struct Utf8Step {
  char32_t code_point = 0;
  std::size_t length = 0;  // bytes consumed; 0 when the byte at `at` is invalid
};
Utf8Step decode_utf8(std::string_view text, std::size_t at);

// Where in `text` the first invalid byte is, as a 1-based line and column.
// Columns count code points, not bytes, and a leading byte-order mark is not
// counted: the same convention as toml++'s own positions.
struct TextPosition {
  int line = 1;
  int column = 1;
  std::size_t offset = 0;  // byte offset of the invalid byte
};
std::optional<TextPosition> find_invalid_utf8(std::string_view text);

// Code points a person cannot see or that change how the text around them is
// shown: C0 controls (tab and newline included), DEL, C1 controls, the line
// and paragraph separators U+2028/U+2029, and the bidirectional overrides
// and isolates (U+202A..U+202E, U+2066..U+2069).
bool is_unprintable(char32_t code_point);

// Makes `text` safe to print on one line: every unprintable code point and
// every byte that is not valid UTF-8 becomes a visible escape — \n, \r, \t,
// \xNN for other C0 controls, DEL and invalid bytes, \uNNNN for the rest.
// A backslash is left as it is, so escaping twice changes nothing more: the
// escape is for a safe, readable line, not for a reversible encoding.
std::string escape_text(std::string_view text);

}  // namespace nursery
