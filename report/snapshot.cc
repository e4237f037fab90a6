#include "report/snapshot.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

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

// Decodes sample blobs into latencies (store::DecodeLatencyRepeats) on a thread of its
// own, so the thread that steps the Store (the only one that may) spends no time on
// them: Add copies each blob into a batch of ~1 MiB, the decoder thread takes whole
// batches (at most kMaxQueued wait: a bounded copy of the samples, never all of them).
// Add and Finish from one thread; each target is written by the decoder thread only,
// and nobody may touch it before Finish returns.
class LatencyDecoder {
 public:
  explicit LatencyDecoder(std::string db_path)
      : db_path_(std::move(db_path)), thread_([this] { Run(); }) {}
  ~LatencyDecoder() { Stop(); }  // an early return: its exception, if any, is dropped
  LatencyDecoder(const LatencyDecoder&) = delete;
  LatencyDecoder& operator=(const LatencyDecoder&) = delete;

  void Add(int64_t attempt_id, std::vector<std::vector<double>>* into, std::string_view blob) {
    if (failed_.load(std::memory_order_relaxed)) return;  // Finish reports why
    if (filling_.items.empty()) filling_.bytes.reserve(kBatchBytes + (kBatchBytes >> 2));
    filling_.items.push_back({into, attempt_id, filling_.bytes.size(), blob.size()});
    filling_.bytes.append(blob);
    if (filling_.bytes.size() >= kBatchBytes) Send();
  }

  // Waits for every blob added; the first blob that is not a valid one names its attempt.
  // An exception the decoder thread threw (bad_alloc) is rethrown here.
  Status Finish() {
    Stop();
    if (threw_) std::rethrow_exception(std::exchange(threw_, nullptr));
    return error_;
  }

 private:
  static constexpr size_t kBatchBytes = 1 << 20;
  static constexpr size_t kMaxQueued = 4;
  struct Item {
    std::vector<std::vector<double>>* into;
    int64_t attempt_id;
    size_t offset, size;
  };
  struct Batch {
    std::string bytes;
    std::vector<Item> items;
  };

  // Sends what is left and waits for the decoder thread to decode it and end.
  void Stop() {
    if (!thread_.joinable()) return;
    Send();
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    ready_.notify_all();
    thread_.join();
  }

  void Send() {
    if (filling_.items.empty()) return;
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return queue_.size() < kMaxQueued || dead_; });
    if (!dead_) queue_.push_back(std::move(filling_));
    lock.unlock();
    ready_.notify_one();
    filling_ = Batch();
  }

  void Run() {
    try {
      for (;;) {
        Batch batch;
        {
          std::unique_lock<std::mutex> lock(mu_);
          ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
          if (queue_.empty()) return;  // closed, all decoded
          batch = std::move(queue_.front());
          queue_.pop_front();
        }
        room_.notify_one();
        if (failed_.load(std::memory_order_relaxed)) continue;  // drain, decode no more
        for (const Item& item : batch.items) {
          auto latencies = store::DecodeLatencyRepeats(
              std::string_view(batch.bytes).substr(item.offset, item.size));
          if (!latencies.ok()) {
            error_ = latencies.status().WithContext(db_path_ + ": attempt " +
                                                    std::to_string(item.attempt_id));
            failed_ = true;
            break;
          }
          *item.into = std::move(*latencies);
        }
      }
    } catch (...) {
      threw_ = std::current_exception();
      failed_ = true;
      std::lock_guard<std::mutex> lock(mu_);
      dead_ = true;  // Send waits for room no more
      queue_.clear();
      room_.notify_all();
    }
  }

  const std::string db_path_;
  Batch filling_;  // the adding thread's
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<Batch> queue_;  // guarded by mu_
  bool closed_ = false;      // guarded by mu_
  bool dead_ = false;        // guarded by mu_: the decoder thread threw and left
  std::atomic<bool> failed_{false};
  Status error_ = Status::Ok();  // the decoder thread's until joined
  std::exception_ptr threw_;     // the same
  std::thread thread_;           // last: starts once the rest is built
};

bool IsOk(const AttemptData& a) { return a.record.finished && a.record.outcome == "ok"; }

// The sweep's attempts with their metrics and, for ok attempts, their latencies: three
// streaming queries (store.h, "Whole-sweep reads" and the reads by id range), each sample
// blob reduced to its latencies on a second thread.
Status LoadAttempts(const store::Store& db, SweepSnapshot* snap) {
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
  }
  // The metrics and samples of the sweep's attempts: of every attempt in the range of
  // their ids (store.h), those not the sweep's skipped here, by id.
  std::unordered_map<int64_t, AttemptData*> by_id;
  int64_t first = std::numeric_limits<int64_t>::max(), last = std::numeric_limits<int64_t>::min();
  int64_t first_ok = first, last_ok = last;
  for (auto& [key, list] : snap->attempts) {
    for (AttemptData& a : list) {
      const int64_t id = a.record.id;
      by_id[id] = &a;
      first = std::min(first, id);
      last = std::max(last, id);
      if (IsOk(a)) {
        first_ok = std::min(first_ok, id);
        last_ok = std::max(last_ok, id);
      }
    }
  }
  if (by_id.empty()) return Status::Ok();
  s = db.ForEachMetricInRange(first, last, [&](int64_t id, const std::string& name, double value) {
    if (auto it = by_id.find(id); it != by_id.end()) it->second->metrics[name] = value;
  });
  if (!s.ok()) return s;
  if (first_ok > last_ok) return Status::Ok();  // no ok attempt: no latencies
  // The latencies of ok attempts: this thread steps the Store (no other may), the
  // decoder's thread turns their blobs into latencies meanwhile.
  LatencyDecoder decoder(db.path());
  s = db.ForEachSampleBlobInRange(first_ok, last_ok, [&](int64_t id, std::string_view blob) {
    if (auto it = by_id.find(id); it != by_id.end() && IsOk(*it->second)) {
      decoder.Add(id, &it->second->latencies, blob);
    }
  });
  Status decoded = decoder.Finish();
  return s.ok() ? decoded : s;
}

}  // namespace

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
  auto trials = db.TrialsWithoutCounts(snap.sweep.id);  // no output shows their labels
  if (!trials.ok()) return trials.status();
  snap.trials = std::move(*trials);
  snap.trials.shrink_to_fit();  // read by push_back: up to 2x its size (8 MB at 100,000)
  if (Status s = LoadAttempts(db, &snap); !s.ok()) return s;
  // ok_replicates as Trials counts it: the trial's attempts that finished ok.
  for (store::TrialRecord& t : snap.trials) {
    for (const AttemptData& a : snap.attempts.at(t.key)) t.ok_replicates += IsOk(a) ? 1 : 0;
  }
  std::set<int64_t> run_ids;
  for (const auto& [key, list] : snap.attempts) {
    for (const AttemptData& a : list) run_ids.insert(a.record.run_id);
  }
  for (int64_t id : run_ids) {
    auto run = db.FindRun(id);
    if (!run.ok()) return run.status();
    if (*run) snap.runs[id] = **run;
  }
  return snap;
}

}  // namespace orch::report
