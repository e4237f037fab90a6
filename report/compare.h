// Comparing two sweeps (`orch compare`): another GPU, another build, another worker. The
// cells of the two sweeps are joined on their configuration without the ignored keys
// (execution policy always, plus any axis the user names); each joined pair gets the
// TPOT ratio second/first with its Student-t CI, the PPL relative change and whether the
// outcomes differ; cells without a partner are listed. Reads only snapshots; pure apart
// from the Store in LoadAndCompare. Deterministic like the report.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "report/contrast.h"
#include "report/snapshot.h"
#include "report/stats.h"

namespace orch::report {

struct CompareOptions {
  // Dropped from both configs before joining, besides ExecutionPolicyKeys().
  std::vector<std::string> ignored_keys;
  ContrastOptions contrast;
  IntervalOptions intervals;
};

struct SweepComparison {
  std::string first_name, second_name;    // as the user should read them ("a.db: sweep")
  std::vector<std::string> ignored_keys;  // all of them, sorted
  std::vector<CellPair> joined;           // reference = first sweep's cell; first sweep's order
  struct Unjoined {
    Cell cell;
    std::string why;
  };
  std::vector<Unjoined> only_first, only_second;
  int differing_outcomes = 0;
  int slower = 0, faster = 0, no_difference = 0, not_compared = 0;
  double min_effect = 0.02, ppl_tolerance = 0.01;
  std::vector<std::string> first_hardware, second_hardware;  // measured cells' platforms
};

StatusOr<SweepComparison> CompareSweeps(const SweepSnapshot& first, const std::string& first_name,
                                        const SweepSnapshot& second, const std::string& second_name,
                                        const CompareOptions& opts);

}  // namespace orch::report
