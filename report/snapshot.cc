#include "report/snapshot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "store/sample_blob.h"
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

namespace {
bool IsOk(const AttemptData& a) { return a.record.finished && a.record.outcome == "ok"; }
}  // namespace

struct SnapshotLoad::State {
  const store::Store& db;
  std::unique_ptr<store::Store::ReadSnapshot> read;  // held from Trials to Latencies
  SweepSnapshot snap;
  std::unordered_map<int64_t, AttemptData*> by_id;  // every attempt, by id
  // The range of their ids, and of the ok ones' (the reads by id range, store.h).
  int64_t first = std::numeric_limits<int64_t>::max(), last = std::numeric_limits<int64_t>::min();
  int64_t first_ok = first, last_ok = last;
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
  auto trials = db.TrialsWithoutCounts(snap.sweep.id);  // no output shows their labels
  if (!trials.ok()) return trials.status();
  snap.trials = std::move(*trials);
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
  for (const store::TrialRecord& t : snap->trials) snap->attempts[t.key];  // none: empty list
  // Every attempt of the database, the sweep's kept: a pass over the table costs less
  // than a probe of the sweep's trial keys per attempt (store.h).
  Status s = db.ForEachAttemptById([&](store::AttemptRecord&& a) {
    auto it = snap->attempts.find(a.trial_key);
    if (it == snap->attempts.end()) return;  // another sweep's trial
    AttemptData& d = it->second.emplace_back();
    d.record = std::move(a);
    // No output shows it (the map's key is the trial key), nor what the read left empty
    // (attempt_dir, log_path, owner's host and PID namespace).
    std::string().swap(d.record.trial_key);
  });
  if (!s.ok()) return s;
  for (auto& [key, list] : snap->attempts) {
    // By id is by number for attempts orch numbered (one after another); by number is
    // the order the report reads them in, whatever the ids.
    auto by_number = [](const AttemptData& a, const AttemptData& b) {
      return a.record.number < b.record.number;
    };
    if (!std::is_sorted(list.begin(), list.end(), by_number)) {
      std::stable_sort(list.begin(), list.end(), by_number);
    }
    for (AttemptData& a : list) {
      const int64_t id = a.record.id;
      st.by_id[id] = &a;
      st.first = std::min(st.first, id);
      st.last = std::max(st.last, id);
      if (IsOk(a)) {
        st.first_ok = std::min(st.first_ok, id);
        st.last_ok = std::max(st.last_ok, id);
      }
    }
  }
  // ok_replicates as Store::Trials counts it: the trial's attempts that finished ok. The
  // one field of the trials this step writes (ModelBuild::Start reads others meanwhile).
  for (store::TrialRecord& t : snap->trials) {
    for (const AttemptData& a : snap->attempts.at(t.key)) t.ok_replicates += IsOk(a) ? 1 : 0;
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

// Two streaming queries (store.h, the report's reads): the metrics, then the sample
// blobs, of every attempt in the range of the sweep's attempt ids, those not the sweep's
// (or, for blobs, not ok) skipped here; each blob decoded straight to its latencies
// (DecodeLatencyRepeats, no Sample per token) as it is read. The second core is ModelBuild's
// meanwhile (report.cc), so the decoding stays on this thread.
Status SnapshotLoad::Latencies(const std::function<void(const AttemptData&)>& loaded) {
  State& st = *state_;
  if (st.steps_done != 2) return Status::Error("snapshot: steps out of order");
  const store::Store& db = st.db;
  Status s = Status::Ok();
  if (!st.by_id.empty()) {
    s = db.ForEachMetricInRange(st.first, st.last,
                                [&](int64_t id, const std::string& name, double value) {
                                  if (auto it = st.by_id.find(id); it != st.by_id.end()) {
                                    it->second->metrics[name] = value;
                                  }
                                });
  }
  if (!s.ok()) return s;
  Status decoded = Status::Ok();
  if (st.first_ok <= st.last_ok) {
    s = db.ForEachSampleBlobInRange(st.first_ok, st.last_ok, [&](int64_t id, std::string_view blob) {
      if (!decoded.ok()) return;
      auto it = st.by_id.find(id);
      if (it == st.by_id.end() || !IsOk(*it->second)) return;
      auto latencies = store::DecodeLatencyRepeats(blob);
      if (!latencies.ok()) {
        decoded = latencies.status().WithContext(db.path() + ": attempt " + std::to_string(id));
        return;
      }
      it->second->latencies = std::move(*latencies);
      if (loaded) loaded(*it->second);
    });
  }
  if (s.ok()) s = decoded;
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
