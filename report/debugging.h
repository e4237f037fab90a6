// Debugging steps: the part of a written failure report that says what was tried and
// found — what the sanity trials found (first non-finite layer per variant), non-finite
// values in other trials, blocked cells grouped by reason, and the retried cells with
// what differed between their attempts (outcome, exit code, signal, slot, run, first
// error line). Built from the model's cells and the snapshot's attempt records; every
// line names its trial key and attempt numbers. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "report/model.h"
#include "report/prose.h"
#include "report/snapshot.h"

namespace orch::report {

// A line of the section and, under it, its detail lines (one per attempt, for retries).
struct Finding {
  Prose line;
  std::vector<Prose> details;
};

struct DebuggingSteps {
  std::vector<Finding> sanity;      // one per `mode: sanity` cell, spec order
  std::vector<Finding> non_finite;  // other cells with a non-finite value in any attempt
  std::vector<Finding> blocked;     // one per distinct reason, most cells first
  std::vector<Finding> retries;     // one per cell with several attempts, one not ok
  int sanity_cells = 0;
};

DebuggingSteps BuildDebuggingSteps(const ReportModel& model, const SweepSnapshot& snapshot);

// "9 (SIGKILL)" for the common signals, else the number.
std::string SignalText(int signal);

}  // namespace orch::report
