// Spec parsing and validation: every error kind, with its position and key, all at once.
#include "orchestrator/plan/spec.h"

#include <gtest/gtest.h>

#include "orchestrator/plan/config_schema.h"
#include "orchestrator/plan/matrix.h"

namespace orch {
namespace {

std::vector<std::string> Errors(const std::string& yaml) {
  SpecParse p = ParseSpec("x.yaml", yaml);
  std::vector<std::string> out;
  for (const auto& e : p.errors) out.push_back(e.ToString());
  if (p.ok()) {
    std::vector<SpecError> errs;
    ExpandStudies(p.spec, &errs);
    for (const auto& e : errs) out.push_back(e.ToString());
  }
  return out;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

TEST(Spec, ValidSpecParsesWithStudiesAndDefaults) {
  SpecParse p = ParseSpec("x.yaml", R"(
name: sweep
context: goal
device: cpu
defaults: {tokens: 64, dtype: bf16}
studies:
  - id: A
    title: quant
    notes: some notes
    baseline: {quant: none}
    matrix: {quant: [none, int8wo]}
)");
  ASSERT_TRUE(p.ok()) << Joined(Errors(""));
  EXPECT_EQ(p.spec.name, "sweep");
  ASSERT_EQ(p.spec.studies.size(), 1u);
  EXPECT_EQ(p.spec.studies[0].notes, "some notes");
  EXPECT_EQ(p.spec.defaults.Find("tokens")->value, 64);
  EXPECT_EQ(p.spec.defaults.Find("device")->value, "cpu");
}

TEST(Spec, UnknownTopLevelKeyNamesLineColumnAndKey) {
  auto e = Errors("name: s\nstudis: []\n");
  ASSERT_FALSE(e.empty());
  EXPECT_NE(Joined(e).find("x.yaml:2:1: studis: unknown key"), std::string::npos) << Joined(e);
}

// `order` (+ `order_seed`): how replicates are claimed, recorded with the seed; random
// (seed 0) unless the spec says otherwise (issue 22).
TEST(Spec, ClaimOrderIsSeededRandomByDefaultOrInterleaved) {
  const std::string studies = "studies:\n  - id: A\n    matrix: {quant: [none]}\n";
  EXPECT_EQ(ParseSpec("x.yaml", "name: s\n" + studies).spec.claim_order, "random:0");
  EXPECT_EQ(ParseSpec("x.yaml", "name: s\norder_seed: 7\n" + studies).spec.claim_order,
            "random:7");
  EXPECT_EQ(ParseSpec("x.yaml", "name: s\norder: interleaved\n" + studies).spec.claim_order,
            "interleaved");
  SpecParse p = ParseSpec("x.yaml", "name: s\norder: random\norder_seed: 42\n" + studies);
  ASSERT_TRUE(p.ok()) << Joined(Errors("name: s\norder: random\norder_seed: 42\n" + studies));
  EXPECT_EQ(p.spec.claim_order, "random:42");
  EXPECT_EQ(ParseSpec("x.yaml", "name: s\norder: random\n" + studies).spec.claim_order,
            "random:0");
  auto e = Errors("name: s\norder: sideways\n" + studies);
  EXPECT_NE(Joined(e).find("x.yaml:2:8: order: must be interleaved or random, not 'sideways'"),
            std::string::npos) << Joined(e);
  e = Errors("name: s\norder: random\norder_seed: -3\n" + studies);
  EXPECT_NE(Joined(e).find("x.yaml:3:13: order_seed: must be an integer >= 0, not '-3'"),
            std::string::npos) << Joined(e);
  e = Errors("name: s\norder: interleaved\norder_seed: 3\n" + studies);
  EXPECT_NE(Joined(e).find("x.yaml:3:1: order_seed: applies only with `order: random`"),
            std::string::npos) << Joined(e);
}

TEST(Spec, UnknownQuantListsTheValidOnes) {
  auto e = Errors("name: s\nstudies:\n  - id: A\n    matrix:\n      quant: [none, int9wo]\n");
  ASSERT_EQ(e.size(), 1u) << Joined(e);
  EXPECT_NE(e[0].find("x.yaml:5:21:"), std::string::npos) << e[0];
  EXPECT_NE(e[0].find("studies[0].matrix.quant"), std::string::npos) << e[0];
  EXPECT_NE(e[0].find("unknown quant 'int9wo' (valid: none, int8wo, int8wo-dequant"),
            std::string::npos) << e[0];
}

TEST(Spec, WrongTypesAreReported) {
  auto e = Errors(R"(name: s
defaults:
  window: wide
  tokens: [1, 2]
studies:
  - id: A
    matrix: {n_sink: [-1]}
)");
  std::string all = Joined(e);
  EXPECT_NE(all.find("x.yaml:3:11: defaults.window: window must be a positive integer or 'full'"),
            std::string::npos) << all;
  EXPECT_NE(all.find("defaults.tokens: must be a single value, not a list"), std::string::npos) << all;
  EXPECT_NE(all.find("n_sink must be an integer >= 0, not '-1'"), std::string::npos) << all;
}

TEST(Spec, SeveralErrorsAreReportedAtOnce) {
  auto e = Errors(R"(name: s
bogus: 1
studies:
  - id: A
    matrix: {quant: [int9], dtype: [fp8]}
)");
  EXPECT_EQ(e.size(), 3u) << Joined(e);
}

TEST(Spec, EmptyMatrixIsAnError) {
  auto e = Errors("name: s\nstudies:\n  - id: A\n    title: nothing\n");
  ASSERT_EQ(e.size(), 1u) << Joined(e);
  EXPECT_NE(e[0].find("empty matrix"), std::string::npos);
  auto e2 = Errors("name: s\nstudies:\n  - id: A\n    matrix: {quant: []}\n");
  EXPECT_NE(Joined(e2).find("empty axis"), std::string::npos) << Joined(e2);
}

TEST(Spec, ExcludeNamingAnUnknownAxisIsAnError) {
  auto e = Errors(R"(name: s
studies:
  - id: A
    matrix: {quant: [none, int8wo]}
    exclude:
      - {dtype: fp16}
)");
  ASSERT_EQ(e.size(), 1u) << Joined(e);
  EXPECT_NE(e[0].find("x.yaml:6:17: studies[0].exclude.dtype: exclude names 'dtype', which is not an axis"),
            std::string::npos) << e[0];
}

TEST(Spec, IncludeNamingAnUnknownKeyIsAnError) {
  auto e = Errors(R"(name: s
studies:
  - id: A
    matrix: {quant: [none]}
    include:
      - {quant: int8wo, windw: 64}
)");
  ASSERT_EQ(e.size(), 1u) << Joined(e);
  EXPECT_NE(e[0].find("unknown key 'windw'"), std::string::npos) << e[0];
}

TEST(Spec, DuplicateCellsAreErrors) {
  auto e = Errors("name: s\nstudies:\n  - id: A\n    matrix: {window: [256, 256]}\n");
  EXPECT_NE(Joined(e).find("duplicate value 256"), std::string::npos) << Joined(e);
  // `full` and the default are the same cell once resolved.
  auto e2 = Errors(R"(name: s
studies:
  - id: A
    matrix: {quant: [none]}
    include:
      - {quant: int8wo}
      - {quant: int8wo, window: full}
)");
  EXPECT_NE(Joined(e2).find("x.yaml:7:9: studies.A: duplicate cell: quant=int8wo window=full resolves to the same configuration as quant=int8wo"), std::string::npos)
      << Joined(e2);
}

TEST(Spec, DuplicateYamlKeysAndStudyIdsAreErrors) {
  auto e = Errors(R"(name: s
name: t
studies:
  - id: A
    matrix: {quant: [none]}
  - id: A
    matrix: {quant: [int8wo]}
)");
  std::string all = Joined(e);
  EXPECT_NE(all.find("x.yaml:2:1: name: duplicate key"), std::string::npos) << all;
  EXPECT_NE(all.find("duplicate study id 'A'"), std::string::npos) << all;
}

TEST(Spec, YamlSyntaxErrorHasPosition) {
  auto e = Errors("name: s\nstudies: [\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("x.yaml:"), std::string::npos);
  EXPECT_NE(e[0].find("YAML:"), std::string::npos);
}

TEST(Spec, DurationsAcceptUnits) {
  SpecParse p = ParseSpec("x.yaml", "name: s\ndefaults: {timeout: 30m, heartbeat_timeout: 90s}\n"
                                    "studies:\n  - id: A\n    matrix: {quant: [none]}\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.spec.defaults.Find("timeout")->value, 1800);
  EXPECT_EQ(p.spec.defaults.Find("heartbeat_timeout")->value, 90);
}

TEST(Spec, DurationRangeAndFormatAreChecked) {
  for (const char* ok : {"1", "0.5", "90s", "30m", "2h", "720h", "2592000", "1.5 m"}) {
    std::string err;
    EXPECT_TRUE(NormalizeValue("timeout", ok, &err).has_value()) << ok << ": " << err;
  }
  EXPECT_EQ(*NormalizeValue("timeout", "1.5 m", nullptr), 90);
  EXPECT_EQ(*NormalizeValue("timeout", "0.5", nullptr), 0.5);
  struct Bad {
    const char* text;
    const char* why;
  };
  for (Bad b : {Bad{"0", "zero"}, Bad{"0s", "zero"}, Bad{"-5", "negative"}, Bad{"", "empty"},
                Bad{"721h", "longer than 30 days"}, Bad{"2592001", "longer than 30 days"},
                Bad{"99999999999999999999999999h", "longer than 30 days"},
                Bad{"1e9", "unknown unit"}, Bad{"5d", "unknown unit"}, Bad{"5 s s", "unexpected"},
                Bad{"1.", "not a number"}, Bad{".5", "not a number"}, Bad{"nan", "not a number"},
                Bad{"inf", "not a number"}}) {
    std::string err;
    EXPECT_FALSE(NormalizeValue("heartbeat_timeout", b.text, &err).has_value()) << b.text;
    EXPECT_NE(err.find(b.why), std::string::npos) << b.text << ": " << err;
  }
  // Unbounded input is refused by length before anything else looks at it.
  std::string err;
  EXPECT_FALSE(NormalizeValue("timeout", std::string(100000, '9') + "s", &err).has_value());
  EXPECT_NE(err.find("too long"), std::string::npos);
  EXPECT_LT(err.size(), 300u);
  auto e = Errors(
      "name: s\ndefaults: {timeout: 0}\nstudies:\n  - id: A\n    matrix: {quant: [none]}\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("x.yaml:2:21: defaults.timeout: timeout must be a duration", 0), 0u) << e[0];
}

TEST(Spec, IntegersHaveASaneMaximum) {
  std::string err;
  EXPECT_TRUE(NormalizeValue("tokens", "2147483647", &err).has_value());
  EXPECT_FALSE(NormalizeValue("tokens", "2147483648", &err).has_value());
  EXPECT_EQ(err, "tokens must be at most 2147483647, not '2147483648'");
  EXPECT_FALSE(NormalizeValue("tokens", "99999999999999999999999", &err).has_value());
  EXPECT_TRUE(NormalizeValue("retries", "100", &err).has_value());
  EXPECT_FALSE(NormalizeValue("retries", "4294967296", &err).has_value());  // int wraps to 0
  EXPECT_EQ(err, "retries must be at most 100, not '4294967296'");
  EXPECT_FALSE(NormalizeValue("window", "4294967297", &err).has_value());
  // F13: 2^31-1 replicates were accepted and their sums overflowed (`status --json` said
  // "replicates": -2); each one is a worker process.
  EXPECT_TRUE(NormalizeValue("repeats", "10000", &err).has_value());
  EXPECT_FALSE(NormalizeValue("repeats", "2147483647", &err).has_value());
  EXPECT_EQ(err, "repeats must be at most 10000, not '2147483647'");
  auto e = Errors("name: s\ndefaults: {repeats: 2147483647}\nstudies:\n  - id: A\n"
                  "    matrix: {quant: [none]}\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("x.yaml:2:21: defaults.repeats: repeats must be at most 10000", 0), 0u)
      << e[0];
}

TEST(Spec, DeviceIsCheckedWithoutRegex) {
  std::string err;
  for (const char* ok : {"cpu", "cuda", "cuda:0", "cuda:123"}) {
    EXPECT_TRUE(NormalizeValue("device", ok, &err).has_value()) << ok;
  }
  for (const char* bad : {"cuda:", "cuda:x", "cuda:1a", "gpu", "cpu ", "cuda:99999999"}) {
    EXPECT_FALSE(NormalizeValue("device", bad, &err).has_value()) << bad;
  }
}

TEST(Spec, InvalidUtf8IsAnErrorWithItsPosition) {
  auto e = Errors("name: s\nstudies:\n  - id: A\n    title: caf\xe9 au lait\n"
                  "    matrix: {quant: [none]}\n");
  ASSERT_EQ(e.size(), 1u) << Joined(e);
  EXPECT_EQ(e[0], "x.yaml:4:15: studies[0].title: invalid UTF-8 (byte 0xE9): a spec must be "
                  "UTF-8 text");
  // Other errors are still reported in the same pass.
  e = Errors("name: s\xff\nstudies:\n  - id: A\n    matrix: {quant: [bogus]}\n");
  ASSERT_EQ(e.size(), 2u) << Joined(e);
  EXPECT_EQ(e[0], "x.yaml:1:8: name: invalid UTF-8 (byte 0xFF): a spec must be UTF-8 text");
  EXPECT_NE(e[1].find("unknown quant 'bogus'"), std::string::npos);
}

TEST(Spec, NamesAndIdsHaveNoControlCharacters) {
  auto e = Errors("name: \"a\\e[2J\"\nstudies:\n  - id: \"A\\r\"\n    matrix: {quant: [none]}\n");
  ASSERT_EQ(e.size(), 2u) << Joined(e);
  EXPECT_EQ(e[0], "x.yaml:1:7: name: must not contain control characters, not 'a\\x1b[2J'");
  EXPECT_EQ(e[1], "x.yaml:3:9: studies[0].id: must not contain control characters, not 'A\\r'");
}

TEST(Spec, ErrorsQuoteSpecTextEscaped) {
  auto e = Errors("name: s\nstudies:\n  - id: A\n    matrix: {quant: [\"\\e[2J\\r\"]}\n");
  ASSERT_EQ(e.size(), 1u) << Joined(e);
  EXPECT_NE(e[0].find("unknown quant '\\x1b[2J\\r'"), std::string::npos) << e[0];
  EXPECT_EQ(e[0].find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace orch
