#include "report/flat_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace orch::report {
namespace {

// What the report would display of a JSON scalar (facts.cc's full parse).
std::string DisplayText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return v.dump();
}

// Every text the scan accepts is its own canonical dump, and each member's text and
// integer are what the full parse gives: the two paths cannot disagree.
TEST(FlatConfigScan, AcceptedTextIsItsOwnDumpWithTheSameFields) {
  for (const std::string& text :
       {std::string("{}"),
        std::string(R"({"compile":"eager","heartbeat_timeout":300,"n_sink":4,"quant":"none",)"
                    R"("quantize_head":"false","seed":0,"x_i":"17"})"),
        std::string(R"({"a":-12,"b":true,"c":false,"d":null,"e":"","f":"x y/z:{},[]"})"),
        std::string(R"({"big":999999999999999999,"neg":-999999999999999999})")}) {
    std::optional<std::vector<FlatScalar>> scan = ScanCanonicalFlatConfig(text);
    ASSERT_TRUE(scan) << text;
    EXPECT_TRUE(IsCanonicalFlatConfig(text)) << text;
    const nlohmann::json j = nlohmann::json::parse(text);
    EXPECT_EQ(j.dump(), text);
    ASSERT_EQ(scan->size(), j.size()) << text;
    size_t i = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++i) {
      const FlatScalar& f = (*scan)[i];
      EXPECT_EQ(f.key, it.key());
      EXPECT_EQ(f.text, DisplayText(it.value())) << it.key();
      EXPECT_EQ(f.token, it.value().dump()) << it.key();  // the value as written
      EXPECT_EQ(f.integer, it.value().is_number_integer()) << it.key();
      if (f.integer) {
        EXPECT_EQ(f.value, it.value().get<int64_t>()) << it.key();
      }
    }
  }
}

// Whatever the dump would write differently, or the scan cannot read as the full parse
// does, is left to the full parse.
TEST(FlatConfigScan, AnythingButACanonicalFlatDumpIsLeftToTheFullParse) {
  // One line per reason:
  // clang-format off
  for (const char* text : {
           "", "{", "[]", "{ }", R"({"a":1 })", R"({"a": 1})", R"( {"a":1})", R"({"a":1}x)",
           R"({"b":1,"a":2})",                   // keys out of order
           R"({"a":1,"a":2})",                   // a key twice
           R"({"a":1.5})", R"({"a":1e3})",       // not integers: the dump formats them
           R"({"a":-0})", R"({"a":01})",         // a dump writes 0 and 1
           R"({"a":1234567890123456789})",       // 19 digits: may not fit
           R"({"a":"x\"y"})", R"({"a":"x\u0041"})", "{\"a\":\"\xc3\xa9\"}",  // escapes, UTF-8
           R"({"a":{"b":1}})", R"({"a":[1]})",   // not flat
           R"({"a":tru})", R"({"a":truex})", R"({"a":1,})", R"({"a"})", R"({a:1})"}) {
    // clang-format on
    EXPECT_FALSE(ScanCanonicalFlatConfig(text)) << text;
    EXPECT_FALSE(IsCanonicalFlatConfig(text)) << text;
  }
}

}  // namespace
}  // namespace orch::report
