// UTF-8 validation and decoding for the tokenizer. Text is validated once, at the entry
// point, so the inner loops may decode without re-checking. Validation follows the
// Unicode definition that Rust's `str` (and so Hugging Face tokenizers) enforces: no
// overlong forms, no surrogates, nothing above U+10FFFF. Stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/status.h"

namespace orch::text {

// Ok when `text` is well-formed UTF-8; otherwise an error naming the byte offset of the
// first ill-formed sequence ("invalid UTF-8 at byte offset 17 (byte 0xC3)").
Status ValidateUtf8(std::string_view text);

// The byte length of the code point starting with `lead`, for text already validated.
inline size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the code point at `*pos` of validated `text` and advances `*pos` past it.
inline char32_t DecodeUtf8(std::string_view text, size_t* pos) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + *pos;
  const size_t n = Utf8SequenceLength(s[0]);
  *pos += n;
  switch (n) {
    case 1:
      return s[0];
    case 2:
      return (char32_t(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3:
      return (char32_t(s[0] & 0x0F) << 12) | (char32_t(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    default:
      return (char32_t(s[0] & 0x07) << 18) | (char32_t(s[1] & 0x3F) << 12) |
             (char32_t(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
  }
}

}  // namespace orch::text
