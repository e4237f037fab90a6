#include "report/snapshot.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "store/store.h"

namespace orch::report {

TrialReplicates OkReplicates(const SweepSnapshot& snap, const std::string& trial_key) {
  TrialReplicates out;
  auto it = snap.attempts.find(trial_key);
  if (it == snap.attempts.end()) return out;
  std::optional<int> first_replicate;
  for (const AttemptData& a : it->second) {
    if (!a.record.finished || a.record.outcome != "ok") continue;
    ++out.processes;
    std::map<int, std::vector<double>> by_repeat;  // warm-up tokens measure compilation
    for (const store::Sample& s : a.samples) {
      if (!s.warmup && std::isfinite(s.latency_ms)) by_repeat[s.repeat].push_back(s.latency_ms);
    }
    for (auto& [repeat, v] : by_repeat) out.latencies.push_back(std::move(v));
    auto ppl = a.metrics.find("ppl");
    if (ppl == a.metrics.end() || !std::isfinite(ppl->second)) continue;
    if (!out.ppl) {
      out.ppl = ppl->second;
      first_replicate = a.record.replicate;
    } else if (std::fabs(ppl->second - *out.ppl) > 1e-9 * std::fabs(*out.ppl)) {
      char buf[200];
      std::snprintf(buf, sizeof(buf),
                    "replicates disagree on PPL: %.6g (replicate %d) vs %.6g (replicate %d); "
                    "the report uses replicate %d's",
                    *out.ppl, *first_replicate, ppl->second, a.record.replicate,
                    *first_replicate);
      out.warnings.push_back(buf);
    }
  }
  return out;
}

StatusOr<SweepSnapshot> LoadSnapshot(const store::Store& db, const std::string& name) {
  SweepSnapshot snap;
  // Every read below sees one state of the database, even while a run writes (S2).
  auto read = db.BeginRead();
  if (!read.ok()) return read.status();
  auto listed = db.ListSweeps();
  if (!listed.ok()) return listed.status();
  const std::vector<store::SweepRecord>& sweeps = *listed;
  if (name.empty()) {
    if (sweeps.empty()) return Status::Error(db.path() + ": the database holds no sweep");
    if (sweeps.size() > 1) {
      std::string names;
      for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
      return Status::Error(db.path() + ": several sweeps (" + names +
                           "): choose one with --sweep NAME");
    }
    snap.sweep = sweeps.front();
  } else {
    std::optional<store::SweepRecord> found;
    for (const auto& s : sweeps) {
      if (s.name == name) found = s;
    }
    if (!found) {
      std::string names;
      for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
      return Status::Error(db.path() + ": no sweep named '" + name +
                           "' (known: " + (names.empty() ? "none" : names) + ")");
    }
    snap.sweep = *found;
  }
  auto studies = db.Studies(snap.sweep.id);
  if (!studies.ok()) return studies.status();
  snap.studies = std::move(*studies);
  auto trials = db.Trials(snap.sweep.id);
  if (!trials.ok()) return trials.status();
  snap.trials = std::move(*trials);
  std::set<int64_t> run_ids;
  for (const store::TrialRecord& t : snap.trials) {
    if (snap.attempts.count(t.key)) continue;
    std::vector<AttemptData>& list = snap.attempts[t.key];
    auto attempts = db.Attempts(t.key);
    if (!attempts.ok()) return attempts.status();
    for (store::AttemptRecord& a : *attempts) {
      AttemptData d;
      auto metrics = db.Metrics(a.id);
      if (!metrics.ok()) return metrics.status();
      d.metrics = std::move(*metrics);
      auto samples = db.Samples(a.id);
      if (!samples.ok()) return samples.status();
      d.samples = std::move(*samples);
      run_ids.insert(a.run_id);
      d.record = std::move(a);
      list.push_back(std::move(d));
    }
  }
  for (int64_t id : run_ids) {
    auto run = db.FindRun(id);
    if (!run.ok()) return run.status();
    if (*run) snap.runs[id] = **run;
  }
  return snap;
}

}  // namespace orch::report
