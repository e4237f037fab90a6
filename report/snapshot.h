// SweepSnapshot: everything the report reads about one sweep, loaded from the store in
// one read transaction and a few streaming queries (sweep, studies, trials, their
// attempts, metrics, the latencies of ok attempts, and runs: plain passes over the
// tables, each sample blob decoded straight to its latencies as it is read). The facts are
// computed from this value alone, so they are tested without a database and the report
// cannot depend on anything but recorded data. Of the samples it keeps only what the
// statistics read: the finite non-warm-up latencies of ok attempts (8 bytes a token,
// where a Sample row takes 32), so a 100,000-trial sweep fits in memory (issue 18); nor
// does it keep what no output shows: the attempts' trial_key (the key of `attempts`
// holds it), attempt_dir, log_path and owner's host and PID namespace, and the trials'
// label. Loading reads only; only the calling thread steps the Store, as the Store
// requires.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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
  // Ok attempts (LoadSnapshot reads no others'): the finite latencies of the
  // non-warm-up tokens, one list per repeat in repeat order, tokens in index order
  // (LatencyRepeats of the attempt's samples).
  std::vector<std::vector<double>> latencies;
};

// What AttemptData keeps of an attempt's samples: warm-up tokens (they measure
// compilation) and non-finite latencies dropped, one list per repeat that has any.
std::vector<std::vector<double>> LatencyRepeats(const std::vector<store::Sample>& samples);

struct SweepSnapshot {
  store::SweepRecord sweep;
  std::vector<store::StudyRecord> studies;  // spec order
  std::vector<store::TrialRecord> trials;   // one row per (study, cell), spec order
  // Attempts of every trial key, by attempt number. Hashed: the report looks a trial's
  // attempts up ~7 times per cell, and in a std::map of 100,000 keys each lookup was ~17
  // compares of 64-character keys, most of them cache misses (15% of a 100,000-trial
  // report, issue 18). Nothing depends on its order.
  std::unordered_map<std::string, std::vector<AttemptData>> attempts;
  std::map<int64_t, store::RunRecord> runs;  // every run an attempt belongs to
};

// The replicates behind a trial's timing: one per (ok attempt, repeat), ok attempts in
// attempt order, each holding its finite non-warm-up latencies. Since replicates are
// fresh worker processes, each ok attempt is one replicate (repeat 0); a trial recorded
// before that holds one ok attempt whose in-process repeats are the replicates.
struct TrialReplicates {
  std::vector<std::vector<double>> latencies;  // the replicate interval's units
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

// LoadSnapshot in three steps, in one read transaction, so that work on what is loaded
// can run on another thread meanwhile (report.cc, with ModelBuild's steps, facts.h):
//   Trials     the sweep (picked as LoadSnapshot does), its studies and trials;
//   Attempts   the attempts (records; every trial has a list) and their runs, and each
//              trial's ok_replicates (the one field of the trials it writes);
//   Latencies  the attempts' metrics, then their latencies: it writes nothing else, and
//              the attempts map and its lists keep their places. `loaded`, when given,
//              is called with each attempt once its latencies are written (every metric
//              is by then); an ok attempt without samples is not named.
// Only finished ok attempts get latencies.
// Called in that order, each once, on the Store's thread. snapshot() is the value so far.
class SnapshotLoad {
 public:
  explicit SnapshotLoad(const store::Store& db);
  ~SnapshotLoad();
  Status Trials(const std::string& name);
  Status Attempts();
  Status Latencies(const std::function<void(const AttemptData&)>& loaded = nullptr);
  SweepSnapshot& snapshot();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace orch::report
