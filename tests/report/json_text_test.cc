#include "report/json_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "report/number_format.h"

namespace orch::report {
namespace {

using nlohmann::json;

// What the writers must reproduce: the compact dump provenance.json and report.html use.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string StringText(std::string_view s) {
  std::string out;
  AppendJsonString(s, out);
  return out;
}

std::string DoubleText(double x) {
  std::string out;
  AppendJsonDouble(x, out);
  return out;
}

std::string IntText(int64_t x) {
  std::string out;
  AppendJsonInt(x, out);
  return out;
}

TEST(JsonText, PlainAsciiStringsAreCopiedAsADumpWritesThem) {
  std::string every;  // every byte the fast path copies verbatim
  for (int c = 0x20; c <= 0x7E; ++c) {
    if (c != '"' && c != '\\') every += static_cast<char>(c);
  }
  for (const std::string& s : {std::string(), std::string("ok"), std::string("cpu:0"),
                               std::string("a/b <tag> & 'q'"), every}) {
    EXPECT_EQ(StringText(s), Dump(json(s))) << s;
    EXPECT_EQ(StringText(s), "\"" + s + "\"");
  }
}

TEST(JsonText, EscapedStringsAreTheDumpsEscapes) {
  const std::vector<std::string> tricky = {
      "say \"hi\"",
      "back\\slash",
      "tab\tnew\nline\rcr\bbs\fff",
      std::string("nul\0byte", 8),
      "\x01\x02\x1f unit separator",
      "del\x7f",
      "\xc3\xa9t\xc3\xa9",            // valid 2-byte UTF-8
      "\xe2\x80\xa8 line separator",  // U+2028: JSON allows it raw
      "\xf0\x9f\x98\x80 emoji",       // 4 bytes
      "\xff lone byte",               // invalid: replaced by U+FFFD
      "cut \xc3",                     // truncated sequence at the end
      "overlong \xc0\x80",            // overlong NUL
      "surrogate \xed\xa0\x80",       // UTF-16 surrogate in UTF-8
      "mixed \"\xff\" and \n",
  };
  for (const std::string& s : tricky) EXPECT_EQ(StringText(s), Dump(json(s))) << s;
  // The replacement, spelled out: a dump with error_handler_t::replace writes U+FFFD.
  EXPECT_EQ(StringText("\xff"), "\"\xef\xbf\xbd\"");
  EXPECT_EQ(StringText("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(StringText("\x01"), "\"\\u0001\"");
}

TEST(JsonText, IntegersAreTheDumpsDecimals) {
  for (const int64_t x :
       {int64_t{0}, int64_t{-1}, int64_t{9}, int64_t{10}, int64_t{99}, int64_t{100}, int64_t{-100},
        int64_t{72412}, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::min() + 1}) {
    EXPECT_EQ(IntText(x), Dump(json(x))) << x;
  }
  EXPECT_EQ(IntText(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
}

TEST(JsonText, DoublesAreTheDumpsGrisu2Digits) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      1.0,
                                      -1.0,
                                      0.1,
                                      0.03,
                                      21.1,
                                      1.0 / 3,
                                      1e-5,
                                      1e-4,
                                      1e-7,
                                      1e15,
                                      1e16,
                                      1e17,
                                      1e21,
                                      1e22,
                                      1e300,
                                      -1e-300,
                                      123456789012345678.0,
                                      750000000.0,
                                      0.025971724,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::epsilon()};
  for (double x : values) EXPECT_EQ(DoubleText(x), Dump(json(x))) << x;
  // Spelled out: a dump keeps ".0" and writes exponents with a sign and two digits.
  EXPECT_EQ(DoubleText(1.0), "1.0");
  EXPECT_EQ(DoubleText(-0.0), "-0.0");
  EXPECT_EQ(DoubleText(1e-5), "1e-05");
  EXPECT_EQ(DoubleText(1e21), "1e+21");
  // Not finite: null, as a dump writes it.
  for (double x : {std::nan(""), inf, -inf}) {
    EXPECT_EQ(DoubleText(x), "null");
    EXPECT_EQ(DoubleText(x), Dump(json(x)));
  }
}

TEST(JsonText, RandomDoublesMatchTheDump) {
  // Random bit patterns cover every exponent, including the ones where grisu2 gives
  // more digits than the shortest round trip (std::to_chars would differ there).
  std::mt19937_64 rng(18);
  int compared = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t bits = rng();
    double x;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x)) continue;
    ASSERT_EQ(DoubleText(x), Dump(json(x))) << bits;
    ++compared;
  }
  // And numbers as the report rounds them: a few decimals.
  std::uniform_real_distribution<double> ms(0, 1000);
  for (int i = 0; i < 200000; ++i) {
    const double x = std::round(ms(rng) * 100) / 100;
    ASSERT_EQ(DoubleText(x), Dump(json(x))) << x;
  }
  EXPECT_GT(compared, 190000);
}

std::string RoundedText(double x, int decimals) {
  std::string out;
  AppendJsonRounded(x, decimals, out);
  return out;
}

// What the page's data held before JsonText: FormatFixed's digits read back by strtod.
std::string RoundedByFormatFixed(double x, int decimals) {
  if (!std::isfinite(x)) return "null";
  return Dump(json(std::stod(FormatFixed(x, decimals))));
}

TEST(JsonText, RoundedIsFormatFixedReadBack) {
  const double inf = std::numeric_limits<double>::infinity();
  for (int d = 0; d <= 3; ++d) {
    for (double x :
         {0.0,   -0.0,   -0.001,  -0.4,       0.5,  1.5,  2.5,   0.125,  0.375,  1.005,
          2.675, 21.205, -21.215, 1e15 + 0.5, 1e21, 1e22, 1e300, -1e300, 5e-324, 7.5e8 + 17}) {
      EXPECT_EQ(RoundedText(x, d), RoundedByFormatFixed(x, d)) << x << " " << d;
    }
    for (double x : {std::nan(""), inf, -inf}) EXPECT_EQ(RoundedText(x, d), "null");
  }
  // A negative number that rounds to zero is a plain zero, as FormatFixed writes it.
  EXPECT_EQ(RoundedText(-0.001, 2), "0.0");
  EXPECT_EQ(RoundedText(21.1, 2), "21.1");
  // Ties of the exact binary value (k/8, k/1000 + 0.0005), everyday values, random bits.
  for (int k = -20000; k <= 20000; ++k) {
    for (int d = 0; d <= 3; ++d) {
      for (double x : {k / 8.0, k / 1000.0 + 0.0005, k * 0.005}) {
        ASSERT_EQ(RoundedText(x, d), RoundedByFormatFixed(x, d)) << x << " " << d;
      }
    }
  }
  std::mt19937_64 rng(18);
  std::uniform_real_distribution<double> ms(-1e4, 1e4);
  for (int i = 0; i < 100000; ++i) {
    const double x = ms(rng);
    ASSERT_EQ(RoundedText(x, i % 4), RoundedByFormatFixed(x, i % 4)) << x;
    const uint64_t bits = rng();
    double y;
    std::memcpy(&y, &bits, sizeof y);
    ASSERT_EQ(RoundedText(y, i % 4), RoundedByFormatFixed(y, i % 4)) << bits;
  }
  EXPECT_THROW(RoundedText(1, -1), std::invalid_argument);
}

TEST(JsonText, DocumentsAreTheDumpOfTheSameDocument) {
  std::string out;
  JsonText w(out);
  w.BeginObject()
      .Key("a")
      .BeginArray()
      .BeginArray()
      .Int(1)
      .Null()
      .String("ok")
      .Double(0.03)
      .EndArray()
      .BeginArray()
      .EndArray()
      .EndArray()
      .Key("c")
      .BeginObject()
      .EndObject()
      .Key("k\xff")
      .String("x\n")
      .Key("t")
      .BeginArray()
      .Double(21.1)
      .Double(std::nan(""))
      .Bool(true)
      .Bool(false)
      .EndArray()
      .Key("z")
      .Raw("{\"device_name\":\"w\"}")
      .EndObject();
  json j;
  j["a"] = json::array({json::array({1, nullptr, "ok", 0.03}), json::array()});
  j["c"] = json::object();
  j["k\xff"] = "x\n";
  j["t"] = json::array({21.1, std::nan(""), true, false});
  j["z"] = json::parse("{\"device_name\":\"w\"}");
  EXPECT_EQ(out, Dump(j));
}

TEST(JsonText, ValuesSideBySideAtTheTopAreNotSeparated) {
  // A writer over a piece of a bigger document (a trial among many): the caller writes
  // the separators between top-level values.
  std::string out;
  JsonText w(out);
  w.BeginArray().EndArray();
  out += ',';
  w.BeginObject().Key("k").Int(1).EndObject();
  EXPECT_EQ(out, "[],{\"k\":1}");
}

TEST(JsonText, UnbalancedContainersThrow) {
  std::string out;
  JsonText w(out);
  EXPECT_THROW(w.EndArray(), std::logic_error);
  for (int i = 0; i < 64; ++i) w.BeginArray();
  EXPECT_THROW(w.BeginArray(), std::logic_error);
}

}  // namespace
}  // namespace orch::report
