#include "report/snapshot.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <unordered_map>

#include "store/store.h"

namespace orch::report {

std::vector<std::vector<double>> LatencyRepeats(const std::vector<store::Sample>& samples) {
  std::map<int, std::vector<double>> by_repeat;  // warm-up tokens measure compilation
  for (const store::Sample& s : samples) {
    if (!s.warmup && std::isfinite(s.latency_ms)) by_repeat[s.repeat].push_back(s.latency_ms);
  }
  std::vector<std::vector<double>> out;
  out.reserve(by_repeat.size());
  for (auto& [repeat, v] : by_repeat) out.push_back(std::move(v));
  return out;
}

TrialReplicates OkReplicates(const SweepSnapshot& snap, const std::string& trial_key) {
  TrialReplicates out;
  auto it = snap.attempts.find(trial_key);
  if (it == snap.attempts.end()) return out;
  std::optional<int> first_replicate;
  for (const AttemptData& a : it->second) {
    if (!a.record.finished || a.record.outcome != "ok") continue;
    ++out.processes;
    out.latencies.insert(out.latencies.end(), a.latencies.begin(), a.latencies.end());
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

struct SnapshotLoad::State {
  const store::Store& db;
  std::unique_ptr<store::Store::ReadSnapshot> read;  // held from Trials to Latencies
  SweepSnapshot snap;
  std::unordered_map<int64_t, AttemptData*> by_id;  // every attempt, by id
  int steps_done = 0;
};

SnapshotLoad::SnapshotLoad(const store::Store& db) : state_(new State{db, nullptr, {}, {}}) {}
SnapshotLoad::~SnapshotLoad() = default;

SweepSnapshot& SnapshotLoad::snapshot() { return state_->snap; }

Status SnapshotLoad::Trials(const std::string& name) {
  State& st = *state_;
  if (st.steps_done != 0) return Status::Error("snapshot: steps out of order");
  const store::Store& db = st.db;
  SweepSnapshot& snap = st.snap;
  // Every read below sees one state of the database, even while a run writes (S2).
  auto read = db.BeginRead();
  if (!read.ok()) return read.status();
  st.read = std::move(*read);
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
  for (store::TrialRecord& t : snap.trials) std::string().swap(t.label);  // no output shows it
  snap.trials.shrink_to_fit();  // read by push_back: up to 2x its size (8 MB at 100,000)
  st.steps_done = 1;
  return Status::Ok();
}

Status SnapshotLoad::Attempts() {
  State& st = *state_;
  if (st.steps_done != 1) return Status::Error("snapshot: steps out of order");
  const store::Store& db = st.db;
  SweepSnapshot* snap = &st.snap;
  snap->attempts.reserve(snap->trials.size());
  Status s = db.ForEachAttempt(snap->sweep.id, [&](store::AttemptRecord&& a) {
    std::vector<AttemptData>& list = snap->attempts[a.trial_key];
    list.emplace_back();
    AttemptData& d = list.back();
    d.record = std::move(a);
    // No output shows them (the map's key is the trial key): ~300 bytes an attempt.
    std::string().swap(d.record.trial_key);
    std::string().swap(d.record.attempt_dir);
    std::string().swap(d.record.log_path);
    std::string().swap(d.record.owner.host);
    std::string().swap(d.record.owner.pid_ns);
  });
  if (!s.ok()) return s;
  for (const store::TrialRecord& t : snap->trials) snap->attempts[t.key];  // none: empty list
  for (auto& [key, list] : snap->attempts) {
    for (AttemptData& a : list) st.by_id[a.record.id] = &a;
  }
  std::set<int64_t> run_ids;
  for (const auto& [key, list] : snap->attempts) {
    for (const AttemptData& a : list) run_ids.insert(a.record.run_id);
  }
  for (int64_t id : run_ids) {
    auto run = db.FindRun(id);
    if (!run.ok()) return run.status();
    if (*run) snap->runs[id] = **run;
  }
  st.steps_done = 2;
  return Status::Ok();
}

// Two streaming queries (store.h, "Whole-sweep reads"): every metric, then each sample
// blob reduced to its latencies as it is read.
Status SnapshotLoad::Latencies(const std::function<void(const AttemptData&)>& loaded) {
  State& st = *state_;
  if (st.steps_done != 2) return Status::Error("snapshot: steps out of order");
  const store::Store& db = st.db;
  Status s = db.ForEachMetric(st.snap.sweep.id, /*final_only=*/false,
                              [&](int64_t id, const std::string& name, double value) {
                                if (auto it = st.by_id.find(id); it != st.by_id.end()) {
                                  it->second->metrics[name] = value;
                                }
                              });
  if (!s.ok()) return s;
  s = db.ForEachSamples(st.snap.sweep.id, /*ok_only=*/true,
                        [&](int64_t id, std::vector<store::Sample>&& samples) {
                          if (auto it = st.by_id.find(id); it != st.by_id.end()) {
                            it->second->latencies = LatencyRepeats(samples);
                            if (loaded) loaded(*it->second);
                          }
                        });
  if (!s.ok()) return s;
  st.read.reset();
  decltype(st.by_id)().swap(st.by_id);
  st.steps_done = 3;
  return Status::Ok();
}

StatusOr<SweepSnapshot> LoadSnapshot(const store::Store& db, const std::string& name) {
  SnapshotLoad load(db);
  if (Status s = load.Trials(name); !s.ok()) return s;
  if (Status s = load.Attempts(); !s.ok()) return s;
  if (Status s = load.Latencies(); !s.ok()) return s;
  return std::move(load.snapshot());
}

}  // namespace orch::report
