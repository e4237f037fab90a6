// Facts: turns a SweepSnapshot into the ReportModel — per-cell statistics (replicate
// medians, Student-t CIs; stats.h), each study's baseline, the comparisons with it and
// its sensitivity, and the claims the data supports. Claims are conservative by construction: "slower"/"faster"
// only when the ratio's CI excludes 1, "PPL stable" only within the stated tolerance,
// and no comparison across different hardware or builds. Pure; callable from any
// thread (BuildModel builds the cells on its own short-lived threads).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "report/handoff.h"
#include "report/model.h"
#include "report/snapshot.h"

namespace orch::report {

struct FactsOptions {
  double ppl_tolerance = 0.01;  // relative change still called "stable"
  double min_effect = 0.02;     // |ratio - 1| a faster/slower verdict must exceed
  IntervalOptions intervals;
};

StatusOr<ReportModel> BuildModel(const SweepSnapshot& snapshot, const FactsOptions& opts);

// BuildModel, freeing each trial's latencies once its cell's statistics are made: the
// report's peak then holds the latencies or the cells they became, not both (issue 18:
// ~100 MB of latencies at 100,000 trials). Also moved or freed as each cell is made, since
// the cell holds them: the trial's config text and the final attempt's metrics, and every
// attempt's warnings text. The rest of `snapshot` is left as it was.
StatusOr<ReportModel> BuildModelDroppingLatencies(SweepSnapshot& snapshot,
                                                  const FactsOptions& opts);

// BuildModelDroppingLatencies in three steps, each reading only what the snapshot holds by
// then, so that a caller can run them beside the Store's reads (report.cc: the loading of
// a 100,000-trial sweep is ~2 s of one thread, issue 18):
//   Start        sweep, studies and trials loaded: the studies' cells laid out, each
//                trial's config parsed (its text freed); it reads no trial's
//                ok_replicates, which the loader may meanwhile write;
//   AddAttempts  attempts and runs loaded: every cell but its replicates, from the
//                attempts' records; it reads nothing else of them, so the loader may
//                meanwhile write the attempts' `metrics` and `latencies`;
//   (AddReplicatesAsLoaded, below, while the latencies load)
//   Finish       everything loaded: PPL, TPOT and final metrics (the latencies freed),
//                the cells of trials in several studies, comparisons, claims, summaries.
// Called in that order, each once, from one thread at a time (any thread; each step runs
// the cells on every core). An error is returned again by every step after it.
class ModelBuild {
 public:
  ModelBuild(SweepSnapshot& snapshot, const FactsOptions& opts);  // drops, as above
  ModelBuild(const SweepSnapshot& snapshot, SweepSnapshot* drop, const FactsOptions& opts);
  ModelBuild(ModelBuild&&) noexcept = default;
  ~ModelBuild();
  Status Start();
  Status AddAttempts();
  // Optional, after AddAttempts, on one thread while the loader's Latencies runs on
  // another: each cell's replicates as soon as the last of its ok attempts has its
  // latencies (their memory freed then, not after the whole load). `loaded` yields the
  // attempts whose metrics and latencies Latencies has written, and is closed when it
  // returns; this returns then. Finish does the cells left.
  void AddReplicatesAsLoaded(Handoff<const AttemptData*>& loaded);
  StatusOr<ReportModel> Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// --- Pieces, public for the writers and for tests ------------------------------------

// slower when the CI lies above 1 and the ratio exceeds 1 + min_effect, faster when the
// CI lies below 1 and the ratio is under 1 - min_effect, else no measurable difference;
// kWithinRunOnly whenever `replicated` is false (one replicate on either side).
SpeedVerdict JudgeSpeed(const Interval& ratio_ci, double ratio, double min_effect, bool replicated);

// The numbers of two cells' comparison, whatever their outcomes and platforms: TPOT median
// ratio cell / baseline with its interval and verdict (when both have per-token samples),
// PPL change with its verdict. Compare (below) and the report's pairings (contrast.h) both
// use it.
Comparison CompareMeasurements(const Cell& cell, const Cell& baseline, double confidence,
                               double min_effect, double ppl_tolerance);

// The study's Sensitivity from its ok cells with per-token samples: unset when any has
// one replicate or fewer than two such cells exist (nothing is compared then).
std::optional<Sensitivity> StudySensitivity(const std::vector<Cell>& cells, double confidence,
                                            double min_effect);

// Compares `cell` with `baseline` (both should be ok; otherwise the reason is recorded).
Comparison Compare(const Cell& cell, const Cell& baseline, const FactsOptions& opts);

// Index of the baseline among `cells`: cells matching every key of `baseline_json`
// (first in spec order), or when it is "{}", the cells with quant none, preferring
// window full. Matches the cells' config.fields (values as displayed: 256 equals "256"). `how` says which rule chose it or why none was found.
std::optional<size_t> ChooseBaseline(const std::vector<Cell>& cells,
                                     const std::string& baseline_json, std::string* how);

}  // namespace orch::report
