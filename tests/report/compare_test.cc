#include "report/compare.h"

#include <gtest/gtest.h>

#include "orchestrator/plan/config_schema.h"
#include "report/markdown_writer.h"
#include "report_test_util.h"
#include "sweep_builder.h"

namespace orch::report {
namespace {

using testing::AttemptSpec;
using testing::CellSpec;
using testing::Config;
using testing::OkAttempt;

AttemptSpec Failed(const std::string& outcome) {
  AttemptSpec a;
  a.outcome = outcome;
  a.reason = outcome + " reason";
  a.exit_code = 1;
  return a;
}

class Compare : public testing::TempDb {
 protected:
  // The first sweep on an A100, the second on an H100 with another timeout policy: none
  // and int8 join; int4 runs out of memory only on the A100; int2 and x_only exist once.
  void BuildBoth(store::Store& first, store::Store& second) {
    ASSERT_TRUE(testing::BuildSweep(first, "a100",
                                    {{"S", Config(), {OkAttempt(20)}},
                                     {"S", Config({{"quant", "int8"}}), {OkAttempt(30)}},
                                     {"S", Config({{"quant", "int4"}}), {Failed("oom")}},
                                     {"S", Config({{"quant", "int2"}}), {OkAttempt(15)}}},
                                    "NVIDIA A100", 1)
                    .ok());
    ASSERT_TRUE(
        testing::BuildSweep(second, "h100",
                            {{"S", Config({{"timeout", 60}}), {OkAttempt(10, 20.05)}},
                             {"S", Config({{"quant", "int8"}, {"timeout", 60}}), {OkAttempt(30.1)}},
                             {"S", Config({{"quant", "int4"}, {"timeout", 60}}), {OkAttempt(9)}},
                             {"S", Config({{"quant", "int1"}}), {OkAttempt(9)}}},
                            "NVIDIA H100 80GB HBM3", 100)
            .ok());
  }

  StatusOr<SweepComparison> Run(const store::Store& a, const store::Store& b,
                                const CompareOptions& opts = {}) {
    StatusOr<SweepSnapshot> sa = LoadSnapshot(a, ""), sb = LoadSnapshot(b, "");
    EXPECT_TRUE(sa.ok() && sb.ok());
    return CompareSweeps(*sa, "a.db: a100", *sb, "b.db: h100", opts);
  }
};

TEST_F(Compare, JoinsOnConfigurationIgnoringPolicyKeys) {
  auto a = Open("a.db"), b = Open("b.db");
  BuildBoth(*a, *b);
  StatusOr<SweepComparison> c = Run(*a, *b);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->joined.size(), 3u);  // none, int8, int4 (timeout differs: ignored)
  EXPECT_EQ(c->joined[0].label, "none");
  ASSERT_TRUE(c->joined[0].ratio.has_value());
  EXPECT_NEAR(*c->joined[0].ratio, 0.5, 0.02);  // second / first
  EXPECT_LT(c->joined[0].ratio_ci.hi, 1.0);
  EXPECT_EQ(c->joined[0].speed, SpeedVerdict::kFaster);
  EXPECT_EQ(c->joined[1].speed, SpeedVerdict::kNoDifference);  // 30 vs 30.1 ms
  EXPECT_NEAR(*c->joined[0].ppl_change, 0.0025, 1e-9);
  EXPECT_EQ(c->differing_outcomes, 1);
  EXPECT_TRUE(c->joined[2].outcomes_differ());
  EXPECT_EQ(c->joined[2].reference.outcome, "oom");
  ASSERT_EQ(c->only_first.size(), 1u);
  EXPECT_EQ(c->only_first[0].cell.config.quant, "int2");
  ASSERT_EQ(c->only_second.size(), 1u);
  EXPECT_EQ(c->only_second[0].cell.config.quant, "int1");
  EXPECT_EQ(c->ignored_keys, (std::vector<std::string>{"heartbeat_timeout", "retries", "timeout"}));
  EXPECT_EQ(c->first_hardware, std::vector<std::string>{"NVIDIA A100"});
}

TEST_F(Compare, MarkdownNamesEveryPairByItsKeysAndIsByteIdentical) {
  auto a = Open("a.db"), b = Open("b.db");
  BuildBoth(*a, *b);
  StatusOr<SweepComparison> c = Run(*a, *b);
  ASSERT_TRUE(c.ok());
  const std::string md = RenderComparisonMarkdown(*c);
  for (const CellPair& p : c->joined) {
    EXPECT_NE(md.find("`" + p.reference.short_key + "`, `" + p.other.short_key + "`"),
              std::string::npos)
        << p.label;
  }
  EXPECT_NE(md.find("## Outcomes that differ\n\n- int4: first **oom**"), std::string::npos) << md;
  EXPECT_NE(md.find("no cell of the second sweep has this configuration"), std::string::npos);
  EXPECT_NE(
      md.find("Joined cells: 3 (slower 0, faster 1, no measurable difference 1, not compared 1)"),
      std::string::npos)
      << md;
  StatusOr<SweepComparison> again = Run(*a, *b);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(md, RenderComparisonMarkdown(*again));
}

TEST_F(Compare, IgnoringANamedAxisJoinsAcrossIt) {
  auto a = Open("a.db"), b = Open("b.db");
  ASSERT_TRUE(
      testing::BuildSweep(*a, "orch", {{"S", Config({{"worker", "orch"}}), {OkAttempt(10)}}}).ok());
  ASSERT_TRUE(
      testing::BuildSweep(*b, "ref", {{"S", Config({{"worker", "reference"}}), {OkAttempt(25)}}}).ok());
  StatusOr<SweepComparison> c = Run(*a, *b);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->joined.empty());
  CompareOptions opts;
  opts.ignored_keys = {"worker"};
  c = Run(*a, *b, opts);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->joined.size(), 1u);
  EXPECT_NEAR(*c->joined[0].ratio, 2.5, 0.1);
  opts.ignored_keys = {"wroker"};
  c = Run(*a, *b, opts);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--ignore wroker: no cell"), std::string::npos);
}

TEST_F(Compare, TheSameTrialInBothSweepsIsResampledIndependently) {
  // Identical cells (same key) with the same samples: a ratio of exactly 1 whose CI
  // still has width, because the second sweep draws with its own seed.
  auto a = Open("a.db"), b = Open("b.db");
  ASSERT_TRUE(testing::BuildSweep(*a, "x", {{"S", Config(), {OkAttempt(10)}}}, "GPU", 7).ok());
  ASSERT_TRUE(testing::BuildSweep(*b, "x", {{"S", Config(), {OkAttempt(10)}}}, "GPU", 7).ok());
  StatusOr<SweepComparison> c = Run(*a, *b);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->joined.size(), 1u);
  EXPECT_EQ(c->joined[0].reference.key, c->joined[0].other.key);
  EXPECT_DOUBLE_EQ(*c->joined[0].ratio, 1.0);
  EXPECT_LT(c->joined[0].ratio_ci.lo, 1.0);
  EXPECT_GT(c->joined[0].ratio_ci.hi, 1.0);
  EXPECT_EQ(c->joined[0].speed, SpeedVerdict::kNoDifference);
}

TEST(ExecutionPolicyKeys, AreTheSchemasNonIdentityKeys) {
  std::vector<std::string> schema;
  for (const ConfigKey& k : ConfigKeys()) {
    if (!k.identity) schema.push_back(k.name);
  }
  std::sort(schema.begin(), schema.end());
  EXPECT_EQ(ExecutionPolicyKeys(), schema);
}

}  // namespace
}  // namespace orch::report
