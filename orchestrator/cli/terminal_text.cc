#include "orchestrator/cli/terminal_text.h"

#include <cstdint>

namespace orch {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at `s[i]`, or 0 when it is ill-formed
// (Unicode Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t WellFormedLength(std::string_view s, size_t i, uint32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  const size_t left = s.size() - i;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < left && b(k) >= lo && b(k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(1)) return 0;
    *cp = (uint32_t(c & 0x1F) << 6) | (b(1) & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    if (!cont(1, lo, hi) || !cont(2)) return 0;
    *cp = (uint32_t(c & 0x0F) << 12) | (uint32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    if (!cont(1, lo, hi) || !cont(2) || !cont(3)) return 0;
    *cp = (uint32_t(c & 0x07) << 18) | (uint32_t(b(1) & 0x3F) << 12) |
          (uint32_t(b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    return 4;
  }
  return 0;
}

// Bytes of the maximal ill-formed subpart starting at `i` (at least 1): a lead byte
// followed by the continuation bytes that were still valid for it.
size_t IllFormedLength(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t want = c >= 0xC2 && c <= 0xDF   ? 2
                : c >= 0xE0 && c <= 0xEF ? 3
                : c >= 0xF0 && c <= 0xF4 ? 4
                                         : 1;
  size_t n = 1;
  while (n < want && i + n < s.size()) {
    unsigned char x = static_cast<unsigned char>(s[i + n]);
    unsigned char lo = 0x80, hi = 0xBF;
    if (n == 1 && c == 0xE0) lo = 0xA0;
    if (n == 1 && c == 0xED) hi = 0x9F;
    if (n == 1 && c == 0xF0) lo = 0x90;
    if (n == 1 && c == 0xF4) hi = 0x8F;
    if (x < lo || x > hi) break;
    ++n;
  }
  return n;
}

void AppendHex(std::string* out, uint32_t v) {
  static const char kHex[] = "0123456789abcdef";
  *out += "\\x";
  *out += kHex[(v >> 4) & 0xF];
  *out += kHex[v & 0xF];
}

}  // namespace

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    if (size_t n = WellFormedLength(text, i, &cp)) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.append(kReplacement);
      i += IllFormedLength(text, i);
    }
  }
  return out;
}

size_t FirstInvalidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = WellFormedLength(text, i, &cp);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string ForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t n = WellFormedLength(text, i, &cp);
    if (n == 0) {
      out.append(kReplacement);
      i += IllFormedLength(text, i);
      continue;
    }
    if (cp == '\n') out += "\\n";
    else if (cp == '\r') out += "\\r";
    else if (cp == '\t') out += "\\t";
    else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) AppendHex(&out, cp);
    else out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string ForTerminalLines(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out += ForTerminal(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    out += '\n';
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace orch
