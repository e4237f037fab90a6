// TrialIndex: the distinct trials of a report model in report order (studies in order,
// cells in order, each trial at its first cell), with the studies each trial is in and,
// for every cell, which trial it is. provenance.json, the page's data and report.md's
// appendix list each trial once; a std::map from 100,000 keys to their studies cost
// ~13 MB and most of a writer's string compares (issue 18): this holds 12 bytes a cell
// and compares keys only to sort them once. Read-only once built: any thread; it points
// into the model, which must outlive it unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "report/model.h"

namespace orch::report {

class TrialIndex {
 public:
  explicit TrialIndex(const ReportModel& model);

  // The distinct trials, each the first cell with its key, in report order.
  const std::vector<const Cell*>& trials() const { return trials_; }
  // The ids of the studies trial `t` is in, in study order (one per cell of the trial).
  std::vector<std::string> StudiesOf(size_t t) const;
  // The trial (an index into trials()) of cell `cell` of study `study`.
  size_t TrialOf(size_t study, size_t cell) const { return trial_of_[study_start_[study] + cell]; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  const ReportModel* model_;
  std::vector<const Cell*> trials_;
  std::vector<size_t> study_start_;      // per study: its first cell in the flat order
  std::vector<uint32_t> trial_of_;       // per cell (flat order): its trial
  std::vector<uint32_t> next_same_;      // per cell: the next cell of its trial, or kNone
  std::vector<uint32_t> first_cell_;     // per trial: its first cell (flat order)
  std::vector<uint32_t> study_of_cell_;  // per cell: its study
};

}  // namespace orch::report
