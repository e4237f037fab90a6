#include "report/snapshot.h"

#include <set>

#include "store/store.h"

namespace orch::report {

StatusOr<SweepSnapshot> LoadSnapshot(const store::Store& db, const std::string& name) {
  SweepSnapshot snap;
  if (name.empty()) {
    std::vector<store::SweepRecord> sweeps = db.ListSweeps();
    if (sweeps.empty()) return Status::Error(db.path() + ": the database holds no sweep");
    if (sweeps.size() > 1) {
      std::string names;
      for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
      return Status::Error(db.path() + ": several sweeps (" + names +
                           "): choose one with --sweep NAME");
    }
    snap.sweep = sweeps.front();
  } else {
    std::optional<store::SweepRecord> found = db.FindSweep(name);
    if (!found) {
      std::string names;
      for (const auto& s : db.ListSweeps()) names += (names.empty() ? "" : ", ") + s.name;
      return Status::Error(db.path() + ": no sweep named '" + name +
                           "' (known: " + (names.empty() ? "none" : names) + ")");
    }
    snap.sweep = *found;
  }
  snap.studies = db.Studies(snap.sweep.id);
  snap.trials = db.Trials(snap.sweep.id);
  std::set<int64_t> run_ids;
  for (const store::TrialRecord& t : snap.trials) {
    if (snap.attempts.count(t.key)) continue;
    std::vector<AttemptData>& list = snap.attempts[t.key];
    for (store::AttemptRecord& a : db.Attempts(t.key)) {
      AttemptData d;
      d.metrics = db.Metrics(a.id);
      d.samples = db.Samples(a.id);
      run_ids.insert(a.run_id);
      d.record = std::move(a);
      list.push_back(std::move(d));
    }
  }
  for (int64_t id : run_ids) {
    if (std::optional<store::RunRecord> run = db.FindRun(id)) snap.runs[id] = *run;
  }
  return snap;
}

}  // namespace orch::report
