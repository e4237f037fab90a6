#include "report/debugging.h"

#include <gtest/gtest.h>

#include "report/facts.h"
#include "report/markdown_writer.h"
#include "report_test_util.h"
#include "sweep_builder.h"

namespace orch::report {
namespace {

using testing::AttemptSpec;
using testing::CellSpec;
using testing::Config;

AttemptSpec Fail(std::string outcome, std::string reason, std::string stderr_tail = "") {
  AttemptSpec a;
  a.outcome = std::move(outcome);
  a.reason = std::move(reason);
  a.stderr_tail = std::move(stderr_tail);
  a.exit_code = 1;
  return a;
}

std::vector<CellSpec> DebugCells() {
  std::vector<CellSpec> c;
  c.push_back({"S", Config({{"mode", "sanity"}}), {AttemptSpec{}}});
  AttemptSpec nan = Fail("nan", "non-finite logits, first at gpt_neox.layers.3");
  nan.details = R"({"nan_layer":"gpt_neox.layers.3","nan_token":5})";
  c.push_back({"S", Config({{"mode", "sanity"}, {"quant", "int8wo-unscaled"}}), {nan}});
  c.push_back({"S",
               Config({{"mode", "sanity"}, {"quant", "int4wo"}}),
               {Fail("blocked", "needs fbgemm-gpu-genai")}});
  AttemptSpec eval_nan = Fail("nan", "non-finite logits at token 9");
  eval_nan.details = R"({"nan_token":9,"nan_repeat":1})";
  c.push_back({"E", Config({{"quant", "int8wo-unscaled"}}), {eval_nan}});
  c.push_back({"E", Config({{"quant", "int4wo"}}), {Fail("blocked", "needs fbgemm-gpu-genai")}});
  c.push_back({"E", Config({{"quant", "int8da"}}), {Fail("blocked", "no kernel for M <= 16")}});
  AttemptSpec crash = Fail("crash", "killed by signal 11", "Segmentation fault in gemm\n");
  crash.exit_code.reset();
  crash.signal = 11;
  crash.slot = "gpu:1";
  crash.duration_s = 3.25;
  crash.terminal = false;
  AttemptSpec ok;
  ok.slot = "gpu:0";
  c.push_back({"E", Config({{"quant", "int8wo"}}), {crash, ok}});
  // Two ok attempts are replicates, not a retry.
  AttemptSpec replicate;
  replicate.terminal = false;
  c.push_back({"E", Config({{"quant", "int4wo-g128"}}), {replicate, AttemptSpec{}}});
  return c;
}

class Debugging : public testing::TempDb {};

TEST_F(Debugging, SanityTrialsNameTheFirstNonFiniteLayerPerVariant) {
  auto db = Open();
  ASSERT_TRUE(testing::BuildSweep(*db, "dbg", DebugCells()).ok());
  StatusOr<SweepSnapshot> snap = LoadSnapshot(*db, "");
  ASSERT_TRUE(snap.ok());
  StatusOr<ReportModel> model = BuildModel(*snap, {});
  ASSERT_TRUE(model.ok());
  const DebuggingSteps d = BuildDebuggingSteps(*model, *snap);
  ASSERT_EQ(d.sanity.size(), 3u);
  EXPECT_NE(d.sanity[0].line.PlainText().find("every layer's output finite (attempt #1)"),
            std::string::npos)
      << d.sanity[0].line.PlainText();
  const std::string nan = d.sanity[1].line.PlainText();
  EXPECT_NE(nan.find("int8wo-unscaled"), std::string::npos) << nan;
  EXPECT_NE(nan.find("first non-finite output in layer gpt_neox.layers.3, at token 5"),
            std::string::npos)
      << nan;
  EXPECT_NE(nan.find("attempt #1, outcome nan"), std::string::npos) << nan;
  EXPECT_NE(d.sanity[2].line.PlainText().find("ended blocked"), std::string::npos);
  // The eval-mode nan: token and repeat, and no layer.
  ASSERT_EQ(d.non_finite.size(), 1u);
  const std::string eval = d.non_finite[0].line.PlainText();
  EXPECT_NE(eval.find("first non-finite at token 9 (repeat 1)"), std::string::npos) << eval;
  EXPECT_NE(eval.find("no layer named"), std::string::npos) << eval;
}

TEST_F(Debugging, BlockedReasonsAreGroupedMostCellsFirst) {
  auto db = Open();
  ASSERT_TRUE(testing::BuildSweep(*db, "dbg", DebugCells()).ok());
  StatusOr<SweepSnapshot> snap = LoadSnapshot(*db, "");
  ASSERT_TRUE(snap.ok());
  StatusOr<ReportModel> model = BuildModel(*snap, {});
  ASSERT_TRUE(model.ok());
  const DebuggingSteps d = BuildDebuggingSteps(*model, *snap);
  ASSERT_EQ(d.blocked.size(), 2u);
  EXPECT_EQ(d.blocked[0].line.PlainText(), "needs fbgemm-gpu-genai: 2 cells");
  EXPECT_EQ(d.blocked[0].details.size(), 2u);
  EXPECT_EQ(d.blocked[1].line.PlainText(), "no kernel for M <= 16: 1 cell");
}

TEST_F(Debugging, RetriesSayWhatDifferedBetweenAttempts) {
  auto db = Open();
  ASSERT_TRUE(testing::BuildSweep(*db, "dbg", DebugCells()).ok());
  StatusOr<SweepSnapshot> snap = LoadSnapshot(*db, "");
  ASSERT_TRUE(snap.ok());
  StatusOr<ReportModel> model = BuildModel(*snap, {});
  ASSERT_TRUE(model.ok());
  const DebuggingSteps d = BuildDebuggingSteps(*model, *snap);
  ASSERT_EQ(d.retries.size(), 1u);
  const std::string head = d.retries[0].line.PlainText();
  EXPECT_NE(head.find("2 attempts, final outcome ok"), std::string::npos) << head;
  EXPECT_NE(
      head.find("differed: outcome, exit code, signal, slot, first error line; the same: run"),
      std::string::npos)
      << head;
  ASSERT_EQ(d.retries[0].details.size(), 2u);
  EXPECT_EQ(d.retries[0].details[0].PlainText(),
            "attempt #1: crash, exit code none, signal 11 (SIGSEGV), slot gpu:1, run 1, 3.25 s: "
            "Segmentation fault in gemm");
  EXPECT_EQ(d.retries[0].details[1].PlainText(),
            "attempt #2: ok, exit code 0, slot gpu:0, run 1, 10.00 s");
}

TEST_F(Debugging, MarkdownReportHasTheSection) {
  auto db = Open();
  ASSERT_TRUE(testing::BuildSweep(*db, "dbg", DebugCells()).ok());
  const std::string md = Render(*db)["report.md"];
  EXPECT_NE(md.find("## 3. Debugging steps"), std::string::npos);
  EXPECT_NE(md.find("### 3.1 Sanity trials: first non-finite layer per variant"),
            std::string::npos);
  EXPECT_NE(md.find("first non-finite output in layer `gpt_neox.layers.3`"), std::string::npos);
  EXPECT_NE(md.find("  - attempt #1: `crash`"), std::string::npos);
  EXPECT_NE(md.find("## 4. Conclusion"), std::string::npos);
  EXPECT_NE(md.find("## 6. Appendix"), std::string::npos);
}

}  // namespace
}  // namespace orch::report
