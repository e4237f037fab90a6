// JsonText: writes compact JSON into a std::string with exactly the bytes nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) writes for the same values, without
// building a document first. provenance.json and report.html's data write 100,000
// trials; a nlohmann document per trial, made only to be dumped, cost more than the rest
// of those writers (issue 18). Numbers go through nlohmann's own routines (grisu2 for
// doubles, not std::to_chars: grisu2 is not always the shortest form); a string of plain
// printable ASCII is copied verbatim, any other string is dumped by nlohmann (escapes,
// invalid UTF-8 replaced by U+FFFD). Object keys are written in the order given: to
// match a dump, give them in its sorted (byte-wise) order. A plain value over one
// string; one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orch::report {

// Single values, appended to `out`.
void AppendJsonString(std::string_view text, std::string& out);
void AppendJsonInt(int64_t value, std::string& out);
void AppendJsonDouble(double value, std::string& out);  // "null" when not finite
// `value` rounded to `decimals` places as FormatFixed rounds it (number_format.h), as
// the double those digits read back as: what json(std::stod(FormatFixed(value,
// decimals))) dumps, without the string and strtod. "null" when not finite.
void AppendJsonRounded(double value, int decimals, std::string& out);

class JsonText {
 public:
  // Appends to `out`, which the caller owns and reads once the value is complete.
  explicit JsonText(std::string& out) : out_(out) {}

  JsonText& BeginObject() { return Open('{'); }
  JsonText& EndObject() { return Close('}'); }
  JsonText& BeginArray() { return Open('['); }
  JsonText& EndArray() { return Close(']'); }
  // The key of the next value in the open object.
  JsonText& Key(std::string_view key);

  JsonText& String(std::string_view text);
  JsonText& Int(int64_t value);
  JsonText& Double(double value);
  JsonText& Rounded(double value, int decimals);  // AppendJsonRounded
  JsonText& Bool(bool value);
  JsonText& Null();
  // A value already written as compact JSON (a cached dump), copied as it is.
  JsonText& Raw(std::string_view json);

 private:
  // A comma before every value of a container but its first, and none after a key.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (depth_ > 0) {
      if (has_value_ & 1) out_ += ',';
      has_value_ |= 1;
    }
  }
  JsonText& Open(char bracket);
  JsonText& Close(char bracket);

  std::string& out_;
  uint64_t has_value_ = 0;  // per open container, innermost in bit 0: a value was written
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace orch::report
