#include "report/flat_config.h"

#include <charconv>

namespace orch::report {

namespace {

// A string without escapes of printable ASCII at `s[i]` (the opening quote): its
// characters, `i` moved past the closing quote. nullopt for anything else, escapes and
// non-ASCII included (the full parser reads those; its dump re-escapes some).
std::optional<std::string_view> PlainString(std::string_view s, size_t& i) {
  if (i >= s.size() || s[i] != '"') return std::nullopt;
  const size_t begin = ++i;
  for (; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      std::string_view text = s.substr(begin, i - begin);
      ++i;
      return text;
    }
    if (c < 0x20 || c > 0x7e || c == '\\') return std::nullopt;
  }
  return std::nullopt;
}

bool Digit(char c) { return c >= '0' && c <= '9'; }

// Calls `member(const FlatScalar&)` for each member in order; false (possibly after some
// calls) unless `json` is a canonical flat dump.
template <typename Member>
bool Scan(std::string_view json, const Member& member) {
  if (json.size() < 2 || json.front() != '{' || json.back() != '}') return false;
  if (json == "{}") return true;
  std::optional<std::string_view> last_key;
  size_t i = 1;
  while (true) {
    FlatScalar f;
    std::optional<std::string_view> key = PlainString(json, i);
    if (!key) return false;
    // A dump lists each key once, in byte order (std::map<std::string>).
    if (last_key && !(*last_key < *key)) return false;
    last_key = key;
    f.key = *key;
    if (i >= json.size() || json[i] != ':') return false;
    ++i;
    if (i >= json.size()) return false;
    const char c = json[i];
    const size_t value_begin = i;
    if (c == '"') {
      std::optional<std::string_view> text = PlainString(json, i);
      if (!text) return false;
      f.text = *text;
    } else if (json.substr(i, 4) == "true") {
      f.text = json.substr(i, 4);
      i += 4;
    } else if (json.substr(i, 5) == "false") {
      f.text = json.substr(i, 5);
      i += 5;
    } else if (json.substr(i, 4) == "null") {
      f.text = {};
      i += 4;
    } else if (c == '-' || Digit(c)) {
      const size_t begin = i;
      if (json[i] == '-') ++i;
      const size_t digits = i;
      while (i < json.size() && Digit(json[i])) ++i;
      const size_t n = i - digits;
      // One digit at least, no leading zero, no "-0" (a dump writes "0"), no overflow.
      if (n == 0 || n > 18 || (json[digits] == '0' && (n > 1 || digits != begin))) return false;
      f.text = json.substr(begin, i - begin);
      f.integer = true;
      std::from_chars(json.data() + begin, json.data() + i, f.value);
    } else {
      return false;
    }
    f.token = json.substr(value_begin, i - value_begin);
    member(f);
    if (i >= json.size()) return false;
    if (json[i] == '}') return i + 1 == json.size();
    if (json[i] != ',') return false;  // a fraction, an exponent, a space, a nest
    ++i;
  }
}

}  // namespace

std::optional<std::vector<FlatScalar>> ScanCanonicalFlatConfig(std::string_view json) {
  std::vector<FlatScalar> out;
  out.reserve(24);
  if (!Scan(json, [&](const FlatScalar& f) { out.push_back(f); })) return std::nullopt;
  return out;
}

bool IsCanonicalFlatConfig(std::string_view json) {
  return Scan(json, [](const FlatScalar&) {});
}

}  // namespace orch::report
