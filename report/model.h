// ReportModel: what the report may say about a sweep — studies, cells with their
// statistics, each cell's comparison with its study's baseline, and the claims with
// their evidence. Built by BuildModel (facts.h) from recorded data only; the writers
// render it and compute nothing. Plain values; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "report/config_fields.h"
#include "report/prose.h"
#include "report/stats.h"
#include "store/records.h"

namespace orch::report {

struct StudySummary;  // study_summary.h

// The fields of a trial's resolved config the report shows; `json` keeps all of it.
struct CellConfig {
  std::string quant, scope, window, dtype, compile, mode, device, model, dataset;
  int64_t n_sink = 0, tokens = 0, warmup = 0, repeats = 0, seed = 0;
  std::string json;                           // canonical config as recorded
  ConfigFields fields;  // every top-level key, as displayed
};

// A failed attempt that preceded the final one (a transient failure that was retried).
struct EarlierAttempt {
  int number = 0;
  std::string outcome;
  std::string detail;  // reason or first error line
};

// Where and with what a cell was measured; cells are compared only when equal.
struct Platform {
  std::string hardware;  // device name (GPU) or CPU model
  std::string build;     // orch commit (+dirty), build type, compiler, LibTorch, CUDA runtime
  bool operator==(const Platform&) const = default;
};

struct Cell {
  std::string key;        // full trial key
  std::string short_key;  // 12-char prefix printed next to every number
  CellConfig config;
  std::string outcome;  // outcome class, or "pending" / "running" when not done
  std::string reason;
  std::string error_line;  // first meaningful stderr line (crash, oom, timeout, hung, ...)
  std::string nan_layer;   // first non-finite layer (nan cells), when the worker said
  std::optional<int64_t> nan_token;
  int attempts = 0;
  std::vector<EarlierAttempt> earlier_attempts;
  std::map<std::string, double> metrics;  // of the final attempt
  std::optional<double> ppl;
  std::optional<LatencySummary> tpot;  // from per-token samples: replicates, then tokens
  int replicate_processes = 0;         // ok worker processes behind tpot (snapshot.h)
  std::optional<double> peak_memory_bytes;
  std::string peak_memory_metric;  // which metric: peak_alloc_bytes or peak_rss_bytes
  std::vector<std::string> warnings;
  std::string worker_environment_json = "{}";
  std::optional<int64_t> run_id;
  std::optional<Platform> platform;
  bool ok() const { return outcome == "ok"; }
};

// kWithinRunOnly: a cell or its baseline has one replicate, so the interval covers the
// spread within one run only and no faster/slower claim is made from it.
enum class SpeedVerdict { kSlower, kFaster, kNoDifference, kWithinRunOnly, kUnavailable };
enum class PplVerdict { kStable, kHigher, kLower, kUnavailable };

// A cell against its study's baseline.
struct Comparison {
  std::optional<double> ratio;  // TPOT median ratio cell / baseline
  Interval ratio_ci;
  SpeedVerdict speed = SpeedVerdict::kUnavailable;
  std::optional<double> ppl_change;  // relative: ppl / ppl_baseline - 1
  PplVerdict ppl = PplVerdict::kUnavailable;
  std::string unavailable_why;  // set when speed or ppl is unavailable
};

// How small a change a study's replicates could have found (issue 22), so that "no
// measurable difference" says how big a difference could still hide.
struct Sensitivity {
  double spread = 0;        // pooled sd of the cells' log replicate medians (~ relative)
  int spread_df = 0;        // its degrees of freedom: sum over cells of (replicates - 1)
  int replicates = 0;       // per cell, the fewest of the measured cells
  double power = 0.8;       // the probability the verdict finds `detectable`
  double detectable = 0;    // smallest slowdown (ratio - 1) found with `power`
};

struct Study {
  std::string id, title, notes, baseline_json;
  std::vector<Cell> cells;              // spec order
  std::optional<size_t> baseline;       // index into cells
  std::string baseline_how;             // how it was chosen, or why there is none
  std::vector<Comparison> comparisons;  // parallel to cells (baseline compares to itself)
  std::vector<std::string> varying;     // config fields that differ between cells
  Prose baseline_line;                  // which cell is the baseline and why
  // Generated from the data, parallel to cells; empty for a big study (study_summary.h),
  // whose every output summarises it and shows no cell's observation.
  std::vector<Prose> observations;
  std::optional<Sensitivity> sensitivity;  // with 2+ replicates in every measured cell
  // A big study's summary, made once by BuildModel for report.md, report.html and
  // tables.tex (SummaryOf, study_summary.h); null for the others or a model made by hand.
  std::shared_ptr<const StudySummary> summary;
};

// One profile-mode cell: shares of the decode step.
struct ProfileRow {
  std::string label;
  std::string short_key;
  std::optional<double> step_ms;
  std::vector<std::pair<std::string, double>> shares;  // component -> fraction, fixed order
};

struct RunInfo {
  int64_t id = 0;
  std::string started_utc, finished_utc;
  std::optional<int> exit_code;
  std::string provenance_json = "{}";
};

struct ReportModel {
  store::SweepRecord sweep;
  std::vector<Study> studies;
  double ppl_tolerance = 0.01;  // relative, for "PPL stable"
  double min_effect = 0.02;     // relative TPOT change a verdict needs (besides the CI)
  IntervalOptions intervals;
  // Context: distinct recorded values over all cells, in first-seen order.
  std::vector<std::string> hardware, builds, models, datasets, methods, dtypes, windows, tokens,
      compile_modes;
  std::vector<ProfileRow> profile;
  std::vector<Prose> conclusions;  // generated: what the data supports
  std::vector<RunInfo> runs;
  int unfinished = 0;  // cells not done
  int stale = 0;       // cells no longer in the spec (not reported)
};

std::string SpeedVerdictText(SpeedVerdict v);  // "slower", "faster", ...

}  // namespace orch::report
