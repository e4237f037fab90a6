#include "report/facts.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/cell_label.h"
#include "report/error_line.h"
#include "report/study_summary.h"

namespace orch::report {
namespace {

using nlohmann::json;

// A snapshot with one study: a baseline (quant none) and one variant, both ok, with
// latencies `base_ms` and `variant_ms` (+/- the same small spread) and PPLs, each cell's
// samples spread over `replicates` repeats.
class TwoCells {
 public:
  TwoCells(double base_ms, double variant_ms, double base_ppl = 20, double variant_ppl = 20,
           int replicates = 4)
      : replicates_(replicates) {
    snap.sweep.id = 1;
    snap.sweep.name = "s";
    snap.studies.push_back({1, "A", "title", "", "{}", 0, true});
    Add("none", base_ms, base_ppl, 0);
    Add("int8wo", variant_ms, variant_ppl, 1);
  }

  void Add(const std::string& quant, double ms, double ppl, int position) {
    store::TrialRecord t;
    t.key = std::string(1, static_cast<char>('a' + position)) + std::string(63, '0');
    t.config_json = json{{"quant", quant}, {"window", "full"}, {"dtype", "fp16"}}.dump();
    t.state = store::TrialState::kDone;
    t.outcome = "ok";
    t.attempts = 1;
    t.final_attempt_id = position + 1;
    t.study_id = "A";
    t.position = position;
    snap.trials.push_back(t);
    AttemptData a;
    a.record.id = position + 1;
    a.record.trial_key = t.key;
    a.record.number = 1;
    a.record.run_id = 1;
    a.record.finished = true;
    a.record.outcome = "ok";
    a.metrics["ppl"] = ppl;
    for (int i = 0; i < 200; ++i) {
      // A deterministic spread of +/-5% around `ms`.
      samples[t.key].push_back({i % replicates_, i / replicates_,
                                ms * (0.95 + 0.1 * ((i * 37) % 200) / 199.0), 3.0, false});
    }
    snap.attempts[t.key].push_back(a);
  }

  // The snapshot keeps what LoadSnapshot keeps of the samples (snapshot.h).
  ReportModel Build(const FactsOptions& opts = {}) {
    for (auto& [key, list] : samples) snap.attempts[key][0].latencies = LatencyRepeats(list);
    StatusOr<ReportModel> m = BuildModel(snap, opts);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return *m;
  }

  SweepSnapshot snap;
  std::map<std::string, std::vector<store::Sample>> samples;  // of each trial's attempt

 private:
  int replicates_;
};

TEST(Claims, SwitchFromNoDifferenceToSlowerAsSamplesSeparate) {
  std::vector<SpeedVerdict> verdicts;
  for (double shift : {1.0, 1.002, 1.01, 1.03, 1.1, 1.5}) {
    ReportModel m = TwoCells(10.0, 10.0 * shift).Build();
    ASSERT_EQ(m.studies.size(), 1u);
    const Comparison& c = m.studies[0].comparisons[1];
    ASSERT_TRUE(c.ratio);
    EXPECT_NEAR(*c.ratio, shift, 0.01);
    verdicts.push_back(c.speed);
  }
  EXPECT_EQ(verdicts.front(), SpeedVerdict::kNoDifference);
  EXPECT_EQ(verdicts.back(), SpeedVerdict::kSlower);
  // Once the samples separate the verdict stays "slower".
  bool slower = false;
  for (SpeedVerdict v : verdicts) {
    if (slower) {
      EXPECT_EQ(v, SpeedVerdict::kSlower);
    }
    slower |= v == SpeedVerdict::kSlower;
  }
  EXPECT_NE(TwoCells(10.0, 10.0)
                .Build()
                .studies[0]
                .observations[1]
                .PlainText()
                .find("no measurable difference"),
            std::string::npos);
  EXPECT_NE(TwoCells(10.0, 15.0).Build().studies[0].observations[1].PlainText().find(": slower"),
            std::string::npos);
}

TEST(Claims, OneReplicateMakesNoSpeedClaim) {
  // Separated samples would be "slower" with replicates; from one run they say nothing
  // about run-to-run spread, so no verdict.
  ReportModel m = TwoCells(10.0, 15.0, 20, 20, /*replicates=*/1).Build();
  const Comparison& c = m.studies[0].comparisons[1];
  ASSERT_TRUE(c.ratio);
  EXPECT_EQ(c.speed, SpeedVerdict::kWithinRunOnly);
  EXPECT_NE(m.studies[0].observations[1].PlainText().find("within-run spread only"),
            std::string::npos)
      << m.studies[0].observations[1].PlainText();
  bool said = false;
  for (const Prose& p : m.conclusions)
    said |= p.PlainText().find("no faster/slower claim (one replicate") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_EQ(TwoCells(10.0, 15.0).Build().studies[0].comparisons[1].speed, SpeedVerdict::kSlower);
}

TEST(Claims, AVerdictNeedsTheMinimumEffect) {
  // 1% slower with identical spreads: the CI excludes 1, but the change is below 2%.
  TwoCells t(10.0, 10.1);
  ReportModel m = t.Build();
  const Comparison& c = m.studies[0].comparisons[1];
  ASSERT_FALSE(c.ratio_ci.Contains(1.0)) << c.ratio_ci.lo << " " << c.ratio_ci.hi;
  EXPECT_EQ(c.speed, SpeedVerdict::kNoDifference);
  EXPECT_NE(m.studies[0].observations[1].PlainText().find("within the +/-2.0% minimum effect"),
            std::string::npos)
      << m.studies[0].observations[1].PlainText();
  FactsOptions loose;
  loose.min_effect = 0.005;
  EXPECT_EQ(t.Build(loose).studies[0].comparisons[1].speed, SpeedVerdict::kSlower);
  EXPECT_EQ(TwoCells(10.0, 9.9).Build(loose).studies[0].comparisons[1].speed,
            SpeedVerdict::kFaster);
  EXPECT_EQ(TwoCells(10.0, 9.9).Build().studies[0].comparisons[1].speed,
            SpeedVerdict::kNoDifference);
}

TEST(JudgeSpeed, IntervalEffectAndReplication) {
  EXPECT_EQ(JudgeSpeed({1.03, 1.05}, 1.04, 0.02, true), SpeedVerdict::kSlower);
  EXPECT_EQ(JudgeSpeed({1.03, 1.05}, 1.04, 0.05, true), SpeedVerdict::kNoDifference);
  EXPECT_EQ(JudgeSpeed({0.99, 1.05}, 1.04, 0.02, true), SpeedVerdict::kNoDifference);
  EXPECT_EQ(JudgeSpeed({0.90, 0.95}, 0.93, 0.02, true), SpeedVerdict::kFaster);
  EXPECT_EQ(JudgeSpeed({0.90, 0.95}, 0.99, 0.02, true), SpeedVerdict::kNoDifference);
  EXPECT_EQ(JudgeSpeed({0.90, 0.95}, 0.93, 0.02, false), SpeedVerdict::kWithinRunOnly);
}

TEST(Claims, FasterWhenTheCiLiesBelowOne) {
  ReportModel m = TwoCells(10.0, 7.0).Build();
  EXPECT_EQ(m.studies[0].comparisons[1].speed, SpeedVerdict::kFaster);
}

TEST(Claims, PplStableOnlyWithinTolerance) {
  FactsOptions opts;
  opts.ppl_tolerance = 0.01;
  EXPECT_EQ(TwoCells(10, 10, 20, 20.19).Build(opts).studies[0].comparisons[1].ppl,
            PplVerdict::kStable);
  EXPECT_EQ(TwoCells(10, 10, 20, 20.21).Build(opts).studies[0].comparisons[1].ppl,
            PplVerdict::kHigher);
  EXPECT_EQ(TwoCells(10, 10, 20, 19.0).Build(opts).studies[0].comparisons[1].ppl,
            PplVerdict::kLower);
}

TEST(Claims, NoComparisonAcrossHardware) {
  TwoCells t(10, 15);
  t.snap.attempts.begin()->second[0].record.environment_json = R"({"device_name":"GPU A"})";
  std::next(t.snap.attempts.begin())->second[0].record.environment_json =
      R"({"device_name":"GPU B"})";
  ReportModel m = t.Build();
  const Comparison& c = m.studies[0].comparisons[1];
  EXPECT_FALSE(c.ratio);
  EXPECT_EQ(c.speed, SpeedVerdict::kUnavailable);
  EXPECT_NE(c.unavailable_why.find("different hardware"), std::string::npos);
  bool said = false;
  for (const Prose& p : m.conclusions)
    said |= p.PlainText().find("2 hardware") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(Claims, NoComparisonAcrossBuilds) {
  TwoCells t(10, 15);
  t.snap.attempts.begin()->second[0].record.environment_json = R"({"libtorch":"2.10"})";
  ReportModel m = t.Build();
  EXPECT_NE(m.studies[0].comparisons[1].unavailable_why.find("different build"), std::string::npos);
}

TEST(Claims, RepeatsArePooledAndWarmupExcluded) {
  TwoCells t(10, 10);
  std::vector<store::Sample>& samples = t.samples.begin()->second;
  for (int i = 0; i < 200; ++i) samples.push_back({1, i, 10.0, 3.0, false});
  for (int i = 0; i < 50; ++i) samples.push_back({1, i, 1000.0, 3.0, true});
  ReportModel m = t.Build();
  ASSERT_TRUE(m.studies[0].cells[0].tpot);
  EXPECT_EQ(m.studies[0].cells[0].tpot->count, 400u);
  EXPECT_LT(m.studies[0].cells[0].tpot->p99, 11.0);
}

Cell CellWith(const std::string& quant, const std::string& window) {
  Cell c;
  c.config.quant = quant;
  c.config.window = window;
  c.config.json =
      json{{"quant", quant}, {"window", window == "full" ? json("full") : json(std::stoi(window))}}
          .dump();
  c.config.fields = {{"quant", quant}, {"window", window}};
  return c;
}

TEST(ChooseBaseline, NamedInSpecOrDefaultQuantNonePreferringFullWindow) {
  std::vector<Cell> cells = {CellWith("int8wo", "full"), CellWith("none", "256"),
                             CellWith("none", "full")};
  std::string how;
  EXPECT_EQ(ChooseBaseline(cells, "{}", &how), 2u);
  EXPECT_EQ(ChooseBaseline(cells, R"({"quant":"none","window":256})", &how), 1u);
  EXPECT_EQ(ChooseBaseline(cells, R"({"quant":"int8wo"})", &how), 0u);
  EXPECT_FALSE(ChooseBaseline(cells, R"({"quant":"int4wo-g32"})", &how));
  EXPECT_NE(how.find("no cell matches"), std::string::npos);
  std::vector<Cell> windows = {CellWith("int8wo", "full"), CellWith("none", "64"),
                               CellWith("none", "128")};
  EXPECT_EQ(ChooseBaseline(windows, "{}", &how), 1u);
  EXPECT_FALSE(ChooseBaseline({CellWith("int8wo", "full")}, "{}", &how));
}

// The report's model frees the latencies it has summarised (issue 18); the model is the
// one BuildModel makes from the same snapshot.
TEST(Facts, DroppingLatenciesFreesThemAndChangesNoStatistic) {
  TwoCells t(10, 12);
  for (auto& [key, list] : t.samples) t.snap.attempts[key][0].latencies = LatencyRepeats(list);
  StatusOr<ReportModel> kept = BuildModel(t.snap, FactsOptions{});
  SweepSnapshot consumed = t.snap;
  StatusOr<ReportModel> dropped = BuildModelDroppingLatencies(consumed, FactsOptions{});
  ASSERT_TRUE(kept.ok() && dropped.ok());
  size_t had = 0;
  for (const auto& [key, attempts] : t.snap.attempts) {
    for (const AttemptData& a : attempts) had += a.latencies.size();
  }
  EXPECT_GT(had, 0u);
  for (const auto& [key, attempts] : consumed.attempts) {
    for (const AttemptData& a : attempts) EXPECT_TRUE(a.latencies.empty()) << key;
  }
  // The trials' config texts too, once their cells hold them.
  for (const store::TrialRecord& trial : consumed.trials) EXPECT_TRUE(trial.config_json.empty());
  ASSERT_EQ(kept->studies.size(), 1u);
  ASSERT_EQ(dropped->studies.size(), 1u);
  ASSERT_EQ(kept->studies[0].cells.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Cell& a = kept->studies[0].cells[i];
    const Cell& b = dropped->studies[0].cells[i];
    ASSERT_TRUE(a.tpot && b.tpot);
    EXPECT_EQ(a.tpot->median, b.tpot->median);
    EXPECT_EQ(a.tpot->count, b.tpot->count);
    EXPECT_EQ(a.tpot->median_ci.lo, b.tpot->median_ci.lo);
    EXPECT_EQ(a.tpot->median_ci.hi, b.tpot->median_ci.hi);
  }
  EXPECT_EQ(*kept->studies[0].comparisons[1].ratio, *dropped->studies[0].comparisons[1].ratio);
  for (size_t i = 0; i < 2; ++i) {
    const Cell& a = kept->studies[0].cells[i];
    const Cell& b = dropped->studies[0].cells[i];
    EXPECT_EQ(a.config.json, b.config.json);
    // The final attempt's metrics move into the cell after its PPL is read.
    EXPECT_EQ(a.metrics, b.metrics);
    ASSERT_TRUE(a.ppl && b.ppl);
    EXPECT_EQ(*a.ppl, *b.ppl);
  }
}

// No output shows a big study's per-cell observations (each summarises it instead), so the
// model makes none for it: at 100,000 trials they were 90 MB (issue 18). A study at the
// limit keeps one per cell.
TEST(Facts, BigStudyHasNoPerCellObservations) {
  for (int cells : {static_cast<int>(kBigStudyCells), static_cast<int>(kBigStudyCells) + 1}) {
    TwoCells t(10, 12);
    for (int i = 2; i < cells; ++i) t.Add("q" + std::to_string(i), 11, 20, i);
    const ReportModel m = t.Build();
    ASSERT_EQ(m.studies.size(), 1u);
    ASSERT_EQ(m.studies[0].cells.size(), static_cast<size_t>(cells));
    if (cells > static_cast<int>(kBigStudyCells)) {
      EXPECT_TRUE(m.studies[0].observations.empty());
    } else {
      ASSERT_EQ(m.studies[0].observations.size(), m.studies[0].cells.size());
      EXPECT_NE(m.studies[0].observations[1].PlainText().find("slower"), std::string::npos);
    }
  }
}

TEST(Facts, NanCellsNameLayerAndToken) {
  TwoCells t(10, 10);
  store::TrialRecord& tr = t.snap.trials[1];
  tr.outcome = "nan";
  AttemptData& a = t.snap.attempts[tr.key][0];
  a.record.outcome = "nan";
  a.record.details_json = R"({"nan_token":17,"nan_layer":"gpt_neox.layers.2"})";
  ReportModel m = t.Build();
  const std::string text = m.studies[0].observations[1].PlainText();
  EXPECT_NE(text.find("gpt_neox.layers.2"), std::string::npos) << text;
  EXPECT_NE(text.find("token 17"), std::string::npos) << text;
  EXPECT_FALSE(m.studies[0].cells[1].tpot);
}

TEST(Facts, IncompleteSweepIsSaidAndPendingCellsAreNotCompared) {
  TwoCells t(10, 15);
  t.snap.trials[1].state = store::TrialState::kPending;
  t.snap.trials[1].outcome = "";
  ReportModel m = t.Build();
  EXPECT_EQ(m.unfinished, 1);
  EXPECT_EQ(m.studies[0].cells[1].outcome, "pending");
  EXPECT_EQ(m.studies[0].comparisons[1].speed, SpeedVerdict::kUnavailable);
  ASSERT_FALSE(m.conclusions.empty());
  EXPECT_NE(m.conclusions[0].PlainText().find("incomplete"), std::string::npos);
}

TEST(Facts, StaleCellsAreLeftOutAndCounted) {
  TwoCells t(10, 15);
  t.snap.trials[1].in_spec = false;
  ReportModel m = t.Build();
  EXPECT_EQ(m.stale, 1);
  ASSERT_EQ(m.studies[0].cells.size(), 1u);
}

TEST(Facts, RejectsCorruptConfig) {
  TwoCells t(10, 10);
  t.snap.trials[0].config_json = "{not json";
  EXPECT_FALSE(BuildModel(t.snap, {}).ok());
}

}  // namespace
}  // namespace orch::report
