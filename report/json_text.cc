#include "report/json_text.h"

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace orch::report {
namespace {

// Bytes a dump copies verbatim into a string: printable ASCII other than '"' and '\\'
// (nlohmann escapes only those two and the control characters; any byte >= 0x80 may
// start a sequence it has to check or replace).
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c <= 0x7E; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

}  // namespace

void AppendJsonString(std::string_view text, std::string& out) {
  for (const char c : text) {
    if (!kPlain[static_cast<unsigned char>(c)]) {
      out += nlohmann::json(std::string(text))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out += text;
  out += '"';
}

void AppendJsonInt(int64_t value, std::string& out) {
  // Plain decimal with a leading '-', as nlohmann's dump_integer writes it.
  char buf[24];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

void AppendJsonDouble(double value, std::string& out) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  // The routine nlohmann's serializer::dump_float calls, with a buffer of its size.
  std::array<char, 64> buf;
  const char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), value);
  out.append(buf.data(), static_cast<size_t>(end - buf.data()));
}

void AppendJsonRounded(double value, int decimals, std::string& out) {
  if (decimals < 0 || decimals > 100) throw std::invalid_argument("AppendJsonRounded: decimals");
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  // std::to_chars rounds the exact binary value to `decimals` places, as fmt's fixed
  // format in FormatFixed does, and std::from_chars reads the nearest double, as strtod
  // does; FormatFixed drops the sign of a zero ("-0.00" is "0.00"). 309 digits before
  // the point at most.
  std::array<char, 512> buf;
  const std::to_chars_result text =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed, decimals);
  double rounded = 0;
  std::from_chars(buf.data(), text.ptr, rounded);
  AppendJsonDouble(rounded == 0 ? 0.0 : rounded, out);
}

JsonText& JsonText::Key(std::string_view key) {
  Separate();
  AppendJsonString(key, out_);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonText& JsonText::String(std::string_view text) {
  Separate();
  AppendJsonString(text, out_);
  return *this;
}

JsonText& JsonText::Int(int64_t value) {
  Separate();
  AppendJsonInt(value, out_);
  return *this;
}

JsonText& JsonText::Double(double value) {
  Separate();
  AppendJsonDouble(value, out_);
  return *this;
}

JsonText& JsonText::Rounded(double value, int decimals) {
  Separate();
  AppendJsonRounded(value, decimals, out_);
  return *this;
}

JsonText& JsonText::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonText& JsonText::Null() {
  Separate();
  out_ += "null";
  return *this;
}

JsonText& JsonText::Raw(std::string_view json) {
  Separate();
  out_ += json;
  return *this;
}

JsonText& JsonText::Open(char bracket) {
  Separate();
  if (depth_ == 64) throw std::logic_error("JsonText: more than 64 nested containers");
  out_ += bracket;
  has_value_ <<= 1;
  ++depth_;
  return *this;
}

JsonText& JsonText::Close(char bracket) {
  if (depth_ == 0) throw std::logic_error("JsonText: closing a container that is not open");
  out_ += bracket;
  has_value_ >>= 1;
  --depth_;
  return *this;
}

}  // namespace orch::report
