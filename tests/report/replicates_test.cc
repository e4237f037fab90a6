// The report's replicates (issue 13): every ok attempt of a trial (a fresh worker
// process each) is one unit of the replicate interval; in-process repeats of
// older databases still are; PPL comes from the first replicate, a disagreement is said.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/facts.h"
#include "report/snapshot.h"
#include "report/snippet.h"

namespace orch::report {
namespace {

using nlohmann::json;

const std::string kKey = "a" + std::string(63, '0');

// One ok trial whose samples (200 tokens around `ms[i]`) come from attempts: with
// `processes`, one ok attempt per entry of `ms` (repeat 0 each); else one attempt with
// one in-process repeat per entry.
SweepSnapshot Snapshot(const std::vector<double>& ms, bool processes,
                       const std::vector<double>& ppl = {}) {
  SweepSnapshot snap;
  snap.sweep.id = 1;
  snap.sweep.name = "s";
  snap.studies.push_back({1, "A", "title", "", "{}", 0, true});
  store::TrialRecord t;
  t.key = kKey;
  t.config_json = json{{"quant", "none"}, {"repeats", ms.size()}, {"tokens", 200}}.dump();
  t.state = store::TrialState::kDone;
  t.outcome = "ok";
  t.study_id = "A";
  int n = processes ? static_cast<int>(ms.size()) : 1;
  t.replicates = n;
  t.ok_replicates = n;
  std::vector<AttemptData>& list = snap.attempts[kKey];
  int number = 0;
  auto attempt = [&](const std::string& outcome, int replicate) -> AttemptData& {
    AttemptData a;
    a.record.id = ++number;
    a.record.number = number;
    a.record.trial_key = kKey;
    a.record.run_id = 1;
    a.record.finished = true;
    a.record.outcome = outcome;
    a.record.replicate = replicate;
    list.push_back(a);
    return list.back();
  };
  // A crashed and an interrupted attempt come first: their samples never count.
  AttemptData& crashed = attempt("crash", 1);
  crashed.latencies = LatencyRepeats({{0, 0, 1000.0, 1.0, false}});
  attempt("interrupted", 1).latencies = LatencyRepeats({{0, 0, 1000.0, 1.0, false}});
  for (int p = 0; p < n; ++p) {
    AttemptData& a = attempt("ok", p + 1);
    a.metrics["ppl"] = ppl.empty() ? 20.0 : ppl[p];
    std::vector<store::Sample> samples;
    for (size_t r = 0; r < ms.size(); ++r) {
      if (processes && static_cast<int>(r) != p) continue;
      for (int i = 0; i < 200; ++i) {
        samples.push_back({processes ? 0 : static_cast<int>(r), i,
                           ms[r] * (0.98 + 0.04 * ((i * 37) % 200) / 199.0), 3.0, false});
      }
      samples.push_back({processes ? 0 : static_cast<int>(r), 200, 500.0, 3.0, true});  // warm-up
    }
    a.latencies = LatencyRepeats(samples);
  }
  t.attempts = number;
  t.final_attempt_id = number;
  snap.trials.push_back(t);
  return snap;
}

TEST(ReportReplicates, EveryOkAttemptIsOneReplicate) {
  TrialReplicates r = OkReplicates(Snapshot({10, 11, 12}, true), kKey);
  EXPECT_EQ(r.processes, 3);
  ASSERT_EQ(r.latencies.size(), 3u);
  for (const auto& v : r.latencies) EXPECT_EQ(v.size(), 200u);  // warm-up left out
  EXPECT_NEAR(r.latencies[2][0], 12 * 0.98, 1e-9);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ReportReplicates, InProcessRepeatsOfOlderDatabasesStillAreReplicates) {
  TrialReplicates r = OkReplicates(Snapshot({10, 11, 12}, false), kKey);
  EXPECT_EQ(r.processes, 1);
  EXPECT_EQ(r.latencies.size(), 3u);
  ReportModel m = *BuildModel(Snapshot({10, 11, 12}, false), {});
  const Cell& c = m.studies[0].cells[0];
  ASSERT_TRUE(c.tpot);
  EXPECT_EQ(c.tpot->replicates, 3u);
  EXPECT_EQ(c.replicate_processes, 1);
}

// The spread between processes enters the interval: the same medians 10, 11, 12 from
// three processes give a CI as wide as their spread, where the last process alone
// (what the report read before: the final attempt) gives a narrow one around 12.
TEST(ReportReplicates, TheIntervalCoversTheSpreadBetweenProcesses) {
  ReportModel m = *BuildModel(Snapshot({10, 11, 12}, true), {});
  const Cell& c = m.studies[0].cells[0];
  ASSERT_TRUE(c.tpot);
  EXPECT_EQ(c.tpot->replicates, 3u);
  EXPECT_EQ(c.replicate_processes, 3);
  EXPECT_NEAR(c.tpot->median, 11, 0.2);
  EXPECT_LT(c.tpot->median_ci.lo, 10.5);
  EXPECT_GT(c.tpot->median_ci.hi, 11.5);
}

TEST(ReportReplicates, PplComesFromTheFirstReplicateAndADisagreementIsWarned) {
  TrialReplicates same = OkReplicates(Snapshot({10, 11}, true, {20.5, 20.5}), kKey);
  EXPECT_EQ(same.ppl, 20.5);
  EXPECT_TRUE(same.warnings.empty());
  SweepSnapshot snap = Snapshot({10, 11}, true, {20.5, 21.0});
  TrialReplicates differ = OkReplicates(snap, kKey);
  EXPECT_EQ(differ.ppl, 20.5);
  ASSERT_EQ(differ.warnings.size(), 1u);
  EXPECT_NE(differ.warnings[0].find("replicates disagree on PPL: 20.5 (replicate 1) vs 21 "
                                    "(replicate 2)"),
            std::string::npos)
      << differ.warnings[0];
  ReportModel m = *BuildModel(snap, {});
  const Cell& c = m.studies[0].cells[0];
  EXPECT_EQ(c.ppl, 20.5);
  bool warned = false;
  for (const auto& w : c.warnings) warned |= w.find("disagree on PPL") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(ReportReplicates, TheMethodSentenceSaysFreshProcesses) {
  auto sentence = [](const SweepSnapshot& snap) {
    std::string out;
    for (const Prose& p : BuildSnippet(*BuildModel(snap, {}))) out += p.PlainText() + " ";
    return out;
  };
  std::string fresh = sentence(Snapshot({10, 11, 12}, true));
  EXPECT_NE(fresh.find("x 3 replicates (fresh processes, interleaved)"), std::string::npos)
      << fresh;
  EXPECT_NE(fresh.find("Student-t intervals on the replicates' log medians"), std::string::npos)
      << fresh;
  SweepSnapshot shuffled = Snapshot({10, 11, 12}, true);
  shuffled.sweep.claim_order = "random:5";
  const std::string random = sentence(shuffled);
  EXPECT_NE(random.find("(fresh processes, in a seeded random order per round, seed 5)"),
            std::string::npos)
      << random;
  std::string old = sentence(Snapshot({10, 11, 12}, false));
  EXPECT_NE(old.find("x 3 repeats in one worker process"), std::string::npos) << old;
}

}  // namespace
}  // namespace orch::report
