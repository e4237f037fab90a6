// orch driving the real orch-worker on the committed tiny GPT-NeoX fixture: spec to
// database to report, with the outcomes the worker must give on a CPU (ok, blocked).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::RunOrch;
using testing::TempDir;
using testing::WriteText;

TEST(OrchWithWorker, TinyModelSweepEndsInExpectedOutcomesAndReports) {
  TempDir d;
  std::string model = std::string(ORCH_TEST_FIXTURES) + "/model/tiny-parallel";
  WriteText(d / "spec.yaml", "name: real\nworker: " ORCH_WORKER_BIN "\nmodel: " + model +
                                 "\ndataset: " + model + "/tokens.ids\n" + R"(device: cpu
defaults: {tokens: 40, warmup: 2, timeout: 300, heartbeat_timeout: 120}
studies:
  - id: A
    title: quantization
    baseline: {quant: none}
    matrix: {quant: [none, int8wo, int4wo-g256]}
  - id: B
    title: windows
    matrix: {window: [8, full]}
  - id: C
    title: modes
    matrix: {mode: [sanity, profile]}
    include: [{compile: cuda_graph, mode: eval}]
)");
  auto run = RunOrch(d.path(), "run spec.yaml -j 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;

  auto db = std::move(store::Store::Open(d / "results/orch.db", store::OpenMode::kReadOnly)).value();
  auto sweep = Must(db->FindSweep("real"));
  ASSERT_TRUE(sweep);
  std::map<std::string, store::TrialRecord> by_label;
  for (const auto& t : Must(db->Trials(sweep->id))) by_label[t.study_id + " " + t.label] = t;
  ASSERT_EQ(by_label.size(), 8u);  // 7 trials: A's none and B's full are one, listed twice
  auto ppl = [&](const std::string& label) {
    const auto& t = by_label.at(label);
    EXPECT_EQ(t.outcome, "ok") << label << ": " << t.reason;
    return t.final_attempt_id ? Must(db->Metrics(*t.final_attempt_id)).at("ppl") : NAN;
  };
  double full = ppl("A quant=none");
  EXPECT_TRUE(std::isfinite(full));
  EXPECT_EQ(by_label.at("A quant=none").key, by_label.at("B window=full").key);
  EXPECT_TRUE(std::isfinite(ppl("A quant=int8wo")));
  double window8 = ppl("B window=8");
  EXPECT_NE(window8, full);  // 40 tokens through an 8-token window evict something
  EXPECT_EQ(by_label.at("A quant=int4wo-g256").outcome, "blocked");
  EXPECT_EQ(by_label.at("C compile=cuda_graph mode=eval").outcome, "blocked");
  EXPECT_EQ(by_label.at("C mode=sanity").outcome, "ok");
  auto prof = Must(db->Metrics(*by_label.at("C mode=profile").final_attempt_id));
  EXPECT_GT(prof.at("profile_share_mlp"), 0.0);
  // Per-token samples reach the database: 40 tokens give 39 next-token predictions.
  EXPECT_GE(Must(db->Samples(*by_label.at("A quant=none").final_attempt_id)).size(), 39u);

  auto report = RunOrch(d.path(), "report --out rep");
  ASSERT_EQ(report.exit_code, 0) << report.output;
  std::ifstream in(d / "rep/report.md");
  std::string md((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(md.find("blocked"), std::string::npos);
  EXPECT_NE(md.find(by_label.at("A quant=none").key.substr(0, 12)), std::string::npos);
}

}  // namespace
}  // namespace orch
