// Contrast: one cell set against another outside a study's baseline rule — the stack
// comparison inside a sweep (cells that differ in one key, e.g. `worker`) and
// `orch compare` (the same configuration in two sweeps). TPOT ratio other/reference with
// the Student-t CI from the two cells' replicates (CompareMeasurements, stats.h),
// the same verdict rule as the report (JudgeSpeed), PPL relative change, and whether the
// outcomes differ. Unlike facts' Compare it does not refuse different platforms (that is
// the point of comparing two GPUs or builds); the writers print both platforms. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/model.h"

namespace orch::report {

struct ContrastOptions {
  double ppl_tolerance = 0.01;
  double min_effect = 0.02;
  double confidence = 0.95;
};

struct CellPair {
  std::string label;            // what the two cells share, as a cell label ("int8wo window=256")
  Cell reference;               // the denominator of the ratio
  Cell other;                   // the numerator
  std::optional<double> ratio;  // TPOT median other / reference
  Interval ratio_ci;
  SpeedVerdict speed = SpeedVerdict::kUnavailable;
  std::optional<double> ppl_change;  // other / reference - 1
  PplVerdict ppl = PplVerdict::kUnavailable;
  std::string unavailable_why;  // why no ratio (a failed side, no samples)
  bool outcomes_differ() const { return reference.outcome != other.outcome; }
};

CellPair ContrastCells(std::string label, const Cell& reference, const Cell& other,
                       const ContrastOptions& opts);

// The config keys of execution policy (timeout, heartbeat_timeout, retries): not part
// of a trial's identity, so never a reason for two cells not to join. Kept equal to the
// orchestrator's schema (ConfigKey::identity == false) by a test.
const std::vector<std::string>& ExecutionPolicyKeys();

// The cell's canonical config without the `ignored` keys: the join key of two cells.
std::string JoinConfig(const CellConfig& config, const std::vector<std::string>& ignored);

}  // namespace orch::report
