// Code-point classes shared by normalisation and shingling. ICU stays behind
// this header: callers see plain int32_t code points.
#ifndef TIPLINE_INTERNAL_UNICODE_TEXT_H_
#define TIPLINE_INTERNAL_UNICODE_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tipline::internal {

enum CodePointClass : uint8_t {
  kWordChar = 0,
  // Punctuation, whitespace, controls, format and line/paragraph separators:
  // folded to a single space by normalisation.
  kSeparator = 1 << 0,
  // Scripts written without spaces between words (Han, kana, Thai, Lao,
  // Khmer, Myanmar): each code point is one token.
  kCharToken = 1 << 1,
  // Han: the text needs the traditional->simplified pass.
  kHan = 1 << 2,
};

// Bitwise OR of CodePointClass flags for code point c (from a table for the
// BMP, built once from ICU properties; ICU directly above it).
uint8_t ClassifyCodePoint(int32_t c) noexcept;

// The BMP part of that table (65536 entries), for loops that classify every
// code point of a text: look up c < 0x10000 directly, call ClassifyCodePoint
// above it.
const uint8_t* BmpClassTable() noexcept;

// Decodes the code point at text[*pos] from UTF-8 already known to be valid
// and advances *pos past it.
inline int32_t NextCodePoint(std::string_view text, size_t* pos) noexcept {
  const auto byte = [&](size_t i) {
    return static_cast<uint8_t>(text[*pos + i]);
  };
  const uint8_t lead = byte(0);
  int32_t c;
  if (lead < 0x80) {
    *pos += 1;
    return lead;
  } else if (lead < 0xE0) {
    c = ((lead & 0x1F) << 6) | (byte(1) & 0x3F);
    *pos += 2;
  } else if (lead < 0xF0) {
    c = ((lead & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    *pos += 3;
  } else {
    c = ((lead & 0x07) << 18) | ((byte(1) & 0x3F) << 12) |
        ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
    *pos += 4;
  }
  return c;
}

}  // namespace tipline::internal

#endif  // TIPLINE_INTERNAL_UNICODE_TEXT_H_
