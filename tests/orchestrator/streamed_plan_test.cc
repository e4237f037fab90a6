// Planning a sweep without holding it (issue 18): the expansion hands each trial over as
// soon as its key is computed, the store records the cells in one transaction fed by it,
// and `orch run` reads its counts and labels from the store instead of loading every trial.
#include <gtest/gtest.h>

#include <limits>

#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "orchestrator/plan/config_schema.h"
#include "orchestrator/plan/matrix.h"
#include "orchestrator/plan/sweep_plan.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"
#include "tests/orchestrator/store_fixture.h"

namespace orch {
namespace {

using store::CellDef;
using store::Store;
using store::SweepDef;
using testing::TempDir;

// The identity written directly is the identity document's dump, byte for byte, and the
// key made from it is the documented one: SHA-256 of {"config", "inputs", "worker"}.
TEST(StreamedPlan, IdentityDumpAndKeyAreTheDocumentedOnes) {
  ResolvedInputs inputs;
  inputs.worker_id = "build-1";
  inputs.fingerprints = {{"dataset", "ab"}, {"model", "cd"}};
  inputs.workers["other"] = {"/bin/other", "build-2"};
  const nlohmann::json configs[] = {
      {{"quant", "int8wo"}, {"window", 64}, {"dtype", "fp16"}, {"timeout", 30},
       {"model", "m"}, {"dataset", "d"}, {"worker", std::string(kDefaultWorker)},
       {"quantize_head", "false"}, {"x_name", "a \"quoted\" \\ value\n\xc3\xa9"}},
      {{"quant", "none"}, {"worker", "other"}, {"quantize_head", "true"}, {"tokens", 128},
       {"x_\xc3\xa9t\"e", 1.5}, {"x_list", {1, 2}}},
      // Each kind of value the identity writes without a dump, at its edges.
      {{"x_neg", -7}, {"x_zero", 0}, {"x_min", std::numeric_limits<int64_t>::min()},
       {"x_u64", std::numeric_limits<uint64_t>::max()}, {"x_empty", ""},
       {"x_bool", true}, {"x_null", nullptr}, {"x_ctrl", "tab\there"}, {"x_del", "\x7f"},
       {"x_obj", {{"b", 1}, {"a", "x"}}}},
      nlohmann::json::object()};
  for (const nlohmann::json& config : configs) {
    const std::string identity = IdentityConfig(config).dump();
    EXPECT_EQ(IdentityDump(config), identity);
    std::string worker = config.value("worker", std::string(kDefaultWorker)) == std::string(kDefaultWorker)
                             ? inputs.worker_id
                             : "build-2";
    nlohmann::json doc = {{"config", IdentityConfig(config)},
                          {"inputs", inputs.fingerprints},
                          {"worker", worker}};
    EXPECT_EQ(TrialKey(config, inputs), Sha256Hex(doc.dump())) << config.dump();
    EXPECT_EQ(TrialKey(config, identity, inputs), Sha256Hex(doc.dump()));
  }
}

SweepPlan Unexpanded(const std::string& yaml) {
  SpecParse p = ParseSpec("s.yaml", yaml);
  EXPECT_TRUE(p.ok()) << (p.errors.empty() ? "" : p.errors[0].ToString());
  SweepPlan plan;
  plan.spec = std::move(p.spec);
  plan.inputs.worker = "/bin/true";
  plan.inputs.worker_id = "w";
  return plan;
}

// Trials come one by one in spec order with their study's index; a duplicate cell in the
// second study is reported with both combinations, and no trial is handed over after it.
TEST(StreamedPlan, TrialsInSpecOrderUntilTheFirstError) {
  SweepPlan plan = Unexpanded(R"(name: s
studies:
  - id: A
    matrix: {quant: [none, int8wo], window: [64, full]}
  - id: B
    matrix: {window: [64, 128]}
    include: [{window: 64, x_a: "1"}, {window: 256}]
  - id: C
    matrix: {quant: [none]}
    include: [{quant: int8wo}, {quant: int8wo, window: full}]
  - id: D
    matrix: {window: [32]}
)");
  std::vector<std::pair<size_t, std::string>> got;
  Status s = ExpandPlan(&plan, [&](size_t study, PlannedTrial&& t) {
    got.emplace_back(study, t.study + " " + DescribeCombination(t.combination));
    EXPECT_EQ(t.key, TrialKey(t.config, plan.inputs));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok());
  std::vector<std::pair<size_t, std::string>> want = {
      {0, "A quant=none window=64"},    {0, "A quant=none window=full"},
      {0, "A quant=int8wo window=64"},  {0, "A quant=int8wo window=full"},
      {1, "B window=64 x_a=1"},         {1, "B window=128"},
      {1, "B window=256"},              {2, "C quant=none"},
      {2, "C quant=int8wo"}};
  EXPECT_EQ(got, want);
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_NE(plan.errors[0].message.find("duplicate cell: quant=int8wo window=full resolves "
                                        "to the same configuration as quant=int8wo"),
            std::string::npos)
      << plan.errors[0].ToString();
  EXPECT_EQ(plan.studies.size(), 4u);  // every study expanded, D's cell not handed over
  EXPECT_TRUE(plan.trials.empty());
}

TEST(StreamedPlan, AnErrorFromTheReceiverStopsTheExpansion) {
  SweepPlan plan = Unexpanded("name: s\nstudies:\n  - id: A\n    matrix: {window: [1, 2, 3]}\n"
                              "  - id: B\n    matrix: {window: [4]}\n");
  int n = 0;
  Status s = ExpandPlan(&plan, [&](size_t, PlannedTrial&&) {
    return ++n == 2 ? Status::Error("disk full") : Status::Ok();
  });
  EXPECT_EQ(s.message(), "disk full");
  EXPECT_EQ(n, 2);
}

SweepDef TwoStudies(const std::string& plan_hash, int n, int replicates = 1) {
  SweepDef d = store::testing::BareSweep();
  d.plan_hash = plan_hash;
  for (const char* id : {"A", "B"}) {
    store::StudyDef sd;
    sd.id = id;
    sd.title = std::string("study ") + id;
    // B shares A's first cell: one trial, two memberships, one row in the claim queue.
    for (int i = id[0] == 'A' ? 0 : n - 1; i < (id[0] == 'A' ? n : 2 * n - 1); ++i) {
      sd.cells.push_back({store::testing::Key(i), "{\"i\":" + std::to_string(i) + "}",
                          "i=" + std::to_string(i), replicates});
    }
    d.studies.push_back(sd);
  }
  return d;
}

std::vector<std::string> Rows(const Store& db, int64_t sweep) {
  std::vector<std::string> rows;
  for (const auto& t : Must(db.Trials(sweep))) {
    rows.push_back(t.key.substr(0, 8) + " " + t.study_id + " " + std::to_string(t.position) +
                   " " + t.label + " " + t.config_json + (t.in_spec ? "" : " stale"));
  }
  return rows;
}

// The keys in the order claims take them.
std::vector<std::string> ClaimOrder(Store& db, int64_t sweep) {
  std::vector<std::string> keys;
  int64_t run = Must(db.BeginRun(sweep, store::testing::Me(), "{}"));
  while (true) {
    auto c = Must(db.ClaimNext(sweep, run, store::testing::Me(), "cpu:0",
                               [](const std::string& k, int n) -> StatusOr<std::string> {
                                 return "/runs/" + k + "/" + std::to_string(n);
                               }));
    if (!c) break;
    keys.push_back(c->trial_key);
  }
  return keys;
}

// A plan recorded through the stream is the one UpsertSweep records from a SweepDef; a
// stream that fails midway, re-planning an existing sweep, leaves the database as it was,
// and running it again gives the same result.
TEST(StreamedUpsert, FailingMidwayLeavesTheDatabaseWholeAndARerunGivesTheSameResult) {
  TempDir d;
  auto whole = Must(Store::Open(d / "whole.db"));
  auto streamed = Must(Store::Open(d / "streamed.db"));
  const SweepDef v1 = TwoStudies("p1", 3), v2 = TwoStudies("p2", 5);
  int64_t sweep = Must(whole->UpsertSweep(v1));
  ASSERT_EQ(Must(streamed->UpsertSweep(v1)), sweep);
  const std::vector<std::string> before = Rows(*streamed, sweep);

  auto feed = [&v2](int fail_after) {
    return [&v2, fail_after](const Store::AddCell& add) -> Status {
      int n = 0;
      for (size_t i = 0; i < v2.studies.size(); ++i) {
        for (const CellDef& cell : v2.studies[i].cells) {
          if (n++ == fail_after) return Status::Error("crash");
          if (Status s = add(i, cell); !s.ok()) return s;
        }
      }
      return Status::Ok();
    };
  };
  SweepDef header = v2;
  for (auto& sd : header.studies) sd.cells.clear();
  auto failed = streamed->UpsertSweep(header, feed(7));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "crash");
  EXPECT_EQ(Rows(*streamed, sweep), before);
  EXPECT_EQ(Must(streamed->FindSweep("s"))->plan_hash, "p1");
  EXPECT_TRUE(streamed->IntegrityCheck().ok());

  ASSERT_EQ(Must(streamed->UpsertSweep(header, feed(-1))), sweep);
  ASSERT_EQ(Must(whole->UpsertSweep(v2)), sweep);
  EXPECT_EQ(Rows(*streamed, sweep), Rows(*whole, sweep));
  EXPECT_EQ(Rows(*streamed, sweep).size(), 12u);  // A 0..4, B 4..8, v1's B 2..3 stale
  EXPECT_EQ(ClaimOrder(*streamed, sweep), ClaimOrder(*whole, sweep));
}

// The run's first line and its labels, from the store: the same as reading every trial.
TEST(StreamedUpsert, ProgressAndLabelsAgreeWithTheTrials) {
  TempDir d;
  auto db = Must(Store::Open(d / "orch.db"));
  int64_t sweep = Must(db->UpsertSweep(TwoStudies("p1", 3, /*replicates=*/2)));
  auto progress = Must(db->Progress(sweep));
  EXPECT_EQ(progress.total, 5);  // 6 cells, one shared
  EXPECT_EQ(progress.pending, 5);
  EXPECT_EQ(progress.processes_left, 10);
  int64_t run = Must(db->BeginRun(sweep, store::testing::Me(), "{}"));
  auto dir = [](const std::string& k, int n) -> StatusOr<std::string> {
    return "/runs/" + k + "/" + std::to_string(n);
  };
  for (int i = 0; i < 3; ++i) {  // replicate 1 of the first three cells ok
    auto c = Must(db->ClaimNext(sweep, run, store::testing::Me(), "cpu:0", dir));
    ASSERT_TRUE(c.has_value());
    store::AttemptResult r;
    r.attempt_id = c->attempt_id;
    r.outcome = "ok";
    ASSERT_TRUE(db->FinishAttempt(r).ok());
  }
  progress = Must(db->Progress(sweep));
  EXPECT_EQ(progress.total, 5);
  EXPECT_EQ(progress.pending, 5);
  EXPECT_EQ(progress.processes_left, 7);
  // The shared cell is labelled by its first study, as Trials lists it.
  EXPECT_EQ(Must(db->TrialLabel(sweep, store::testing::Key(2))), "A i=2");
  EXPECT_EQ(Must(db->TrialLabel(sweep, store::testing::Key(4))), "B i=4");
  EXPECT_EQ(Must(db->TrialLabel(sweep, std::string(64, 'f'))), "");
}

}  // namespace
}  // namespace orch
