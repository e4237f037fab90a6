// SweepSnapshot: everything the report reads about one sweep, loaded from the store in
// one pass (sweep, studies, trials, their attempts, metrics, samples and runs). The facts
// are computed from this value alone, so they are tested without a database and the
// report cannot depend on anything but recorded data. Loading reads only; one thread
// per Store, as the Store requires.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/records.h"

namespace orch::store {
class Store;
}

namespace orch::report {

struct AttemptData {
  store::AttemptRecord record;
  std::map<std::string, double> metrics;
  std::vector<store::Sample> samples;
};

struct SweepSnapshot {
  store::SweepRecord sweep;
  std::vector<store::StudyRecord> studies;  // spec order
  std::vector<store::TrialRecord> trials;   // one row per (study, cell), spec order
  // Attempts of every trial key, by attempt number.
  std::map<std::string, std::vector<AttemptData>> attempts;
  std::map<int64_t, store::RunRecord> runs;  // every run an attempt belongs to
};

// The replicates behind a trial's timing: one per (ok attempt, repeat), ok attempts in
// attempt order, each holding its finite non-warm-up latencies. Since replicates are
// fresh worker processes, each ok attempt is one replicate (repeat 0); a trial recorded
// before that holds one ok attempt whose in-process repeats are the replicates.
struct TrialReplicates {
  std::vector<std::vector<double>> latencies;  // the two-level bootstrap's top level
  int processes = 0;                           // ok attempts (worker processes) behind them
  // PPL of the first ok replicate; replicates are deterministic, so a disagreement is
  // stated in `warnings`, not hidden.
  std::optional<double> ppl;
  std::vector<std::string> warnings;
};
TrialReplicates OkReplicates(const SweepSnapshot& snap, const std::string& trial_key);

// Picks the sweep: `name`, or the only one when `name` is empty (an error lists the
// names when there are several, or says the database has none).
StatusOr<SweepSnapshot> LoadSnapshot(const store::Store& db, const std::string& name);

}  // namespace orch::report
