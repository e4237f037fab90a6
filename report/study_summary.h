// The summary of a big study (more than kBigStudyCells cells), which report.md shows
// instead of enumerating every cell: per-axis marginal medians, the best and worst cells
// with their keys, failures counted by outcome class and by axis value, and the failure
// map collapsed to the axes that explain the failures. report.html and
// `orch export --format csv` hold the full table. Pure; any thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "report/model.h"
#include "report/prose.h"

namespace orch::report {

inline constexpr size_t kBigStudyCells = 200;
// In a sweep with a big study, a conclusion that names every cell keeps this many spans
// in the model (issue 18: two such lists of 100,000 cells took ~90 MB): report.md and
// report.html show at most 200 (kBigSweepListCap, kMaxSpans), and the one more tells
// them it was cut.
inline constexpr size_t kKeptConclusionSpans = 201;
bool IsBigStudy(const Study& study);
bool HasBigStudy(const ReportModel& model);

struct MarginalRow {
  std::string axis, value;
  int cells = 0, ok = 0, failed = 0, unfinished = 0;
  std::optional<double> tpot_median;  // median over the ok cells' TPOT medians
  std::optional<double> ppl_median;   // median over the ok cells' PPL
};

struct RankedCell {
  size_t index = 0;  // into study.cells
  double tpot = 0;
};

// The failure grid on the one or two axes that best separate failed from ok cells.
struct CollapsedMap {
  std::vector<std::string> axes;  // one or two varying fields; empty: no failure
  int unexplained = 0;            // done cells in groups that mix ok and failed
  struct Group {
    std::vector<std::string> values;  // parallel to axes
    int cells = 0, failed = 0;
    std::map<std::string, int> classes;  // failure class -> count
  };
  std::vector<Group> groups;  // axis values in first-seen order
};

struct StudySummary {
  std::vector<MarginalRow> marginals;   // axis by axis, values in first-seen order
  std::vector<RankedCell> best, worst;  // fastest / slowest ok cells by TPOT median
  std::map<std::string, int> failures;  // outcome class -> count
  int failed = 0, ok = 0, unfinished = 0;
  CollapsedMap map;
};

StudySummary SummarizeStudy(const Study& study, size_t ranked = 5);
// The summary BuildModel made for `study` (Study::summary), else SummarizeStudy(study):
// what every writer shows of a big study, made once (issue 18: three times a study).
std::shared_ptr<const StudySummary> SummaryOf(const Study& study);

// The first `n` spans of `prose`: a claim that names every cell of a big study, cut.
Prose FirstSpans(const Prose& prose, size_t n);

}  // namespace orch::report
