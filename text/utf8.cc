#include "text/utf8.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace orch::text {
namespace {

Status InvalidAt(std::string_view text, size_t offset) {
  char byte[8];
  std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(text[offset]));
  return Status::Error("invalid UTF-8 at byte offset " + std::to_string(offset) + " (byte " + byte +
                       ")");
}

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

Status ValidateUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    // ASCII fast path: eight bytes at a time while none has the high bit set.
    while (i + 8 <= size) {
      uint64_t chunk;
      __builtin_memcpy(&chunk, s + i, 8);
      if (chunk & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= size) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Table 3-7 of the Unicode standard (well-formed byte sequences); the second byte's
    // range is narrowed for E0, ED, F0 and F4 to exclude overlongs, surrogates and
    // code points above U+10FFFF.
    size_t length;
    unsigned char low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    } else {
      return InvalidAt(text, i);
    }
    if (i + 1 >= size || s[i + 1] < low || s[i + 1] > high) return InvalidAt(text, i);
    for (size_t k = 2; k < length; ++k) {
      if (i + k >= size || !IsContinuation(s[i + k])) return InvalidAt(text, i);
    }
    i += length;
  }
  return Status::Ok();
}

}  // namespace orch::text
