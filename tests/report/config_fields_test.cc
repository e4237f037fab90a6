#include "report/config_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace orch::report {
namespace {

std::vector<std::pair<std::string, std::string>> Items(const ConfigFields& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : f) out.emplace_back(k, v);
  return out;
}

TEST(ConfigFields, FindsEveryKeyAndNoOther) {
  ConfigFields f;
  for (const char* k : {"dtype", "quant", "window", "x_i"}) f.Set(k, std::string(k) + "-value");
  for (const char* k : {"dtype", "quant", "window", "x_i"}) {
    ASSERT_TRUE(f.Find(k)) << k;
    EXPECT_EQ(*f.Find(k), std::string(k) + "-value");
    EXPECT_TRUE(f.Has(k));
  }
  for (const char* k : {"", "a", "dtyp", "dtypes", "quan", "z"}) {
    EXPECT_FALSE(f.Find(k)) << k;
    EXPECT_FALSE(f.Has(k)) << k;
    EXPECT_EQ(f.Value(k), "") << k;
  }
}

TEST(ConfigFields, KeepsKeysSortedWhateverTheInsertionOrder) {
  ConfigFields f = {{"window", "256"}, {"quant", "int8wo"}, {"dtype", "fp16"}, {"n_sink", "4"}};
  EXPECT_EQ(Items(f),
            (std::vector<std::pair<std::string, std::string>>{
                {"dtype", "fp16"}, {"n_sink", "4"}, {"quant", "int8wo"}, {"window", "256"}}));
  EXPECT_EQ(f.size(), 4u);
}

TEST(ConfigFields, SettingAKeyAgainReplacesItsValue) {
  ConfigFields f = {{"quant", "none"}, {"window", "full"}};
  f.Set("quant", "int4wo-g128-with-a-long-name");
  f.Set("window", "");
  EXPECT_EQ(Items(f), (std::vector<std::pair<std::string, std::string>>{
                          {"quant", "int4wo-g128-with-a-long-name"}, {"window", ""}}));
  EXPECT_TRUE(f.Has("window"));  // an empty value is still a key
}

TEST(ConfigFields, EqualWhenTheSameFields) {
  ConfigFields a = {{"quant", "none"}, {"window", "full"}};
  ConfigFields b = {{"window", "full"}, {"quant", "none"}};
  EXPECT_EQ(a, b);
  b.Set("window", "256");
  EXPECT_FALSE(a == b);
  // Keys and values are not confused across their boundary: "ab"+"c" vs "a"+"bc".
  EXPECT_FALSE((ConfigFields{{"ab", "c"}} == ConfigFields{{"a", "bc"}}));
}

}  // namespace
}  // namespace orch::report
