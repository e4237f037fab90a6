#include "orchestrator/slurm/slurm_executor.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "base/atomic_file.h"
#include "orchestrator/attempt_dir.h"
#include "orchestrator/ownership.h"
#include "orchestrator/retry_policy.h"
#include "orchestrator/slurm/batch_script.h"
#include "orchestrator/slurm/job_outcome.h"
#include "orchestrator/slurm/slurm_client.h"
#include "orchestrator/trial_document.h"
#include "orchestrator/worker_choice.h"

namespace orch::slurm {
namespace {

using Clock = std::chrono::steady_clock;

// Polls in a row in which SLURM (both squeue and sacct answering) knew nothing of a job
// before it counts as lost and its trial runs again.
constexpr int kLostAfterPolls = 3;

std::chrono::milliseconds Ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

double ConfigSeconds(const std::string& config_json, const char* key, double fallback) {
  auto c = nlohmann::json::parse(config_json, nullptr, false);
  return c.is_object() && c.contains(key) && c[key].is_number() ? c[key].get<double>() : fallback;
}

double Mtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
}

void MarkAbandoned(const std::string& attempt_dir) {
  if (attempt_dir.empty()) return;
  std::ofstream(attempt_dir + "/" + kAbandonedFile) << "orch gave this attempt up\n";
}

struct Tracked {
  int64_t attempt_id = 0;
  std::string trial_key, config_json, attempt_dir, job_id;
  int try_number = 1;
  int missing = 0;          // consecutive complete polls that did not know the job
  std::string last_state;
  bool hung_kill = false;   // orch cancelled it for want of heartbeats
};

class SlurmLoop {
 public:
  SlurmLoop(store::Store& db, const ExecutorOptions& o, SlurmProgress& progress)
      : db_(db), o_(o), progress_(progress) {
    base_poll_s_ = o.slurm.poll_s;
    if (const char* env = std::getenv("ORCH_SLURM_POLL_S")) {
      double v = std::atof(env);
      if (v > 0) base_poll_s_ = v;
    }
    poll_s_ = base_poll_s_;
  }

  StatusOr<ExecutorResult> Run() {
    if (Status s = Adopt(); !s.ok()) return s;
    next_lease_ = Clock::now() + Ms(o_.lease_refresh_s);
    if (o_.once) {
      if (Status s = PollOnce(); !s.ok()) return s;
      result_.still_queued = static_cast<int>(tracked_.size());
      return result_;
    }
    // First poll soon after submitting: short jobs finish in seconds.
    next_poll_ = Clock::now() + Ms(base_poll_s_);
    while (true) {
      auto cancel = db_.CancelRequested(o_.run_id);
      if (!cancel.ok()) return cancel.status();
      if (*cancel) {  // checked right before claiming anything
        result_.cancelled = true;
        stopping_ = true;
      }
      if (o_.submit && !stopping_) {
        if (Status s = SubmitPending(); !s.ok()) return s;
      }
      if (o_.detach || tracked_.empty() || stopping_) break;
      if (Status s = Wait(); !s.ok()) return s;
      if (stopping_) break;
      if (Clock::now() >= next_poll_) {
        if (Status s = PollOnce(); !s.ok()) return s;
        next_poll_ = Clock::now() + Ms(poll_s_);
      }
    }
    result_.still_queued = static_cast<int>(tracked_.size());
    return result_;
  }

 private:
  // Takes over the sweep's submitted attempts whose orch is gone (or that are ours).
  Status Adopt() {
    LocalIdentity me = ThisProcessIdentity();
    double now = UnixNow();
    auto jobs = UnfinishedJobs(db_, o_.sweep_id);
    if (!jobs.ok()) return jobs.status();
    for (const store::AttemptRecord& a : *jobs) {
      if (a.run_id != o_.run_id) {
        auto run = db_.FindRun(a.run_id);
        if (!run.ok()) return run.status();
        if (*run && !JudgeOwner(**run, me, now).gone) continue;  // a live orch polls it
      }
      Tracked t;
      t.attempt_id = a.id;
      t.trial_key = a.trial_key;
      auto trial = db_.FindTrial(a.trial_key);
      t.config_json = trial.ok() ? trial->config_json : "{}";
      t.attempt_dir = a.attempt_dir;
      t.job_id = a.job_id;
      auto try_number = db_.TryNumber(a.id);
      if (!try_number.ok()) return try_number.status();
      t.try_number = *try_number;
      if (t.job_id[0] == '?') {
        // Its orch died while sbatch ran: SLURM knows the job by its name, or never got it.
        std::string name = t.job_id.substr(1, t.job_id.rfind('_') - 1);
        std::string task = t.job_id.substr(t.job_id.rfind('_') + 1);
        auto found = client_.FindByName(name);
        if (!found.ok()) return Status::Error("asking SLURM for job " + name + ": " + found.status().message());
        if (found->empty()) {
          MarkAbandoned(t.attempt_dir);
          bool superseded = false;
          if (Status s = db_.InterruptAttempt(a.id, "its orch died while submitting it; SLURM never queued it", &superseded); !s.ok()) return s;
          ++result_.requeued;
          continue;
        }
        t.job_id = *found + "_" + task;
        if (Status s = db_.SetAttemptJob(a.id, t.job_id); !s.ok()) return s;
      }
      if (a.run_id != o_.run_id) ++result_.adopted;
      tracked_[t.attempt_id] = std::move(t);
    }
    if (result_.adopted > 0) {
      progress_.OnNote("took over " + std::to_string(result_.adopted) +
                       " SLURM job(s) of an earlier orch");
    }
    return Status::Ok();
  }

  Status SubmitPending() {
    const int per_task = std::max(1, o_.slurm.trials_per_task);
    const size_t cap = static_cast<size_t>(std::max(1, o_.slurm.max_array_size)) * per_task;
    std::string runs_dir = o_.results_dir + "/runs";
    std::string slurm_dir = SlurmDir(o_.results_dir);
    std::error_code ec;
    std::filesystem::create_directories(slurm_dir, ec);
    if (ec) return Status::Error(slurm_dir + ": cannot create: " + ec.message());
    while (true) {
      std::vector<store::Claim> claims;
      while (claims.size() < cap) {
        auto claim = db_.ClaimNext(o_.sweep_id, o_.run_id, o_.owner, "slurm",
                                   [&](const std::string& key, int n) {
                                     return CreateAttemptDir(runs_dir, key, n);
                                   });
        if (!claim.ok()) return Abandon(claims, claim.status());
        if (!claim->has_value()) break;
        store::Claim c = std::move(**claim);
        auto written = WriteTrialDocument(c, o_.inputs, c.attempt_dir + "/events.jsonl");
        claims.push_back(c);
        if (!written.ok()) return Abandon(claims, written.status());
      }
      if (claims.empty()) return Status::Ok();
      if (Status s = SubmitBatch(claims, slurm_dir); !s.ok()) return s;
    }
  }

  Status SubmitBatch(const std::vector<store::Claim>& claims, const std::string& slurm_dir) {
    const int per_task = std::max(1, o_.slurm.trials_per_task);
    int tasks = static_cast<int>((claims.size() + per_task - 1) / per_task);
    std::string name = "orch-" + o_.sweep_name + "-r" + std::to_string(o_.run_id) + "b" +
                       std::to_string(++batch_);
    BatchScript b;
    b.trials_per_task = per_task;
    b.comment = "orch sweep " + o_.sweep_name + ", run " + std::to_string(o_.run_id) +
                ", batch " + std::to_string(batch_);
    std::vector<double> slowest(per_task, 0);
    for (size_t i = 0; i < claims.size(); ++i) {
      b.attempt_dirs.push_back(claims[i].attempt_dir);
      auto worker = WorkerForConfig(claims[i].config_json, o_.worker, o_.workers);
      if (!worker.ok()) return Abandon(claims, worker.status());
      b.workers.push_back(*worker);
      double t = ConfigSeconds(claims[i].config_json, "timeout", 3600);
      slowest[i % per_task] = std::max(slowest[i % per_task], t);
    }
    std::string script = slurm_dir + "/" + name + ".sh";
    if (Status s = WriteFileAtomically(script, RenderBatchScript(b)); !s.ok()) return Abandon(claims, s);
    // Before sbatch: a name SLURM will know the job by, in case orch dies meanwhile.
    for (size_t i = 0; i < claims.size(); ++i) {
      std::string pending = "?" + name + "_" + std::to_string(i / per_task);
      if (Status s = db_.SetAttemptJob(claims[i].attempt_id, pending); !s.ok()) return s;
    }
    auto args = SbatchArgs(o_.slurm, tasks, name, slurm_dir + "/%A_%a.out",
                           TaskTimeLimit(o_.slurm, slowest));
    auto id = client_.Submit(args, script);
    if (!id.ok()) {
      return Abandon(claims, Status::Error("sbatch refused the jobs: " + id.status().message()));
    }
    for (size_t i = 0; i < claims.size(); ++i) {
      const store::Claim& c = claims[i];
      Tracked t;
      t.attempt_id = c.attempt_id;
      t.trial_key = c.trial_key;
      t.config_json = c.config_json;
      t.attempt_dir = c.attempt_dir;
      t.try_number = c.try_number;
      t.job_id = *id + "_" + std::to_string(i / per_task);
      if (Status s = db_.SetAttemptJob(c.attempt_id, t.job_id); !s.ok()) return s;
      tracked_[t.attempt_id] = std::move(t);
    }
    result_.submitted += static_cast<int>(claims.size());
    progress_.OnSubmitted(*id, static_cast<int>(claims.size()), tasks);
    return Status::Ok();
  }

  // Claimed attempts that never reached SLURM: pending again (no try used), and marked
  // so that a script that might still start them skips them.
  Status Abandon(const std::vector<store::Claim>& claims, const Status& why) {
    for (const auto& c : claims) {
      MarkAbandoned(c.attempt_dir);
      bool superseded = false;
      if (Status s = db_.InterruptAttempt(c.attempt_id, "not submitted: " + why.message(), &superseded);
          !s.ok()) {
        return s;
      }
    }
    return why;
  }

  // Sleeps until the next poll, renewing the lease and watching Ctrl-C and `orch cancel`.
  Status Wait() {
    while (true) {
      Clock::time_point now = Clock::now();
      if (now >= next_lease_) {
        next_lease_ = now + Ms(o_.lease_refresh_s);
        if (Status s = db_.RenewLease(o_.run_id, o_.lease_s); !s.ok()) return s;
        auto cancel = db_.CancelRequested(o_.run_id);
        if (!cancel.ok()) return cancel.status();
        if (*cancel) {
          // `orch cancel` scancels the jobs and records them itself.
          result_.cancelled = true;
          stopping_ = true;
          return Status::Ok();
        }
      }
      if (now >= next_poll_) return Status::Ok();
      auto until = std::min(next_poll_, next_lease_);
      int ms = static_cast<int>(std::clamp<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count(), 0, 1000));
      pollfd p{o_.interrupt_fd, POLLIN, 0};
      int rc = ::poll(&p, o_.interrupt_fd >= 0 ? 1 : 0, ms);
      if (rc < 0 && errno != EINTR) return Status::Error("poll failed");
      if (rc > 0 && (p.revents & POLLIN)) {
        result_.interrupted = true;
        stopping_ = true;
        return Status::Ok();
      }
    }
  }

  // One squeue and one sacct for every job of the sweep; records what finished.
  Status PollOnce() {
    if (tracked_.empty()) return Status::Ok();
    std::set<std::string> arrays;
    for (const auto& [id, t] : tracked_) arrays.insert(ArrayJobOf(t.job_id));
    PollResult p = client_.Poll(arrays);
    if (!p.problem.empty()) progress_.OnNote("polling SLURM: " + p.problem);
    bool changed = false;
    std::vector<std::string> hung;
    double now = UnixNow();
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      Tracked& t = it->second;
      const JobState* job = StateOf(p, t.job_id);
      if (job && IsFinalState(job->state)) {
        if (Status s = Finish(t, *job); !s.ok()) return s;
        it = tracked_.erase(it);
        changed = true;
        continue;
      }
      if (job) {
        t.missing = 0;
        if (job->state != t.last_state) changed = true;
        t.last_state = job->state;
        if (t.last_state == "RUNNING" && !t.hung_kill && Silent(t, now)) {
          t.hung_kill = true;
          hung.push_back(t.job_id);
        }
      } else if (p.complete && ++t.missing >= kLostAfterPolls) {
        MarkAbandoned(t.attempt_dir);
        bool superseded = false;
        if (Status s = db_.InterruptAttempt(t.attempt_id, "SLURM lost job " + t.job_id + " (neither squeue nor sacct knows it); it will run again", &superseded); !s.ok()) {
          return s;
        }
        progress_.OnNote("SLURM lost job " + t.job_id + "; its trial will be submitted again");
        ++result_.requeued;
        it = tracked_.erase(it);
        changed = true;
        continue;
      }
      ++it;
    }
    if (!hung.empty()) {
      progress_.OnNote("no heartbeat: cancelling " + std::to_string(hung.size()) + " task(s)");
      if (Status s = client_.Cancel(hung); !s.ok()) progress_.OnNote("scancel: " + s.message());
    }
    // Back off while nothing changes (up to 4x the interval); at once back when it does.
    poll_s_ = changed ? base_poll_s_ : std::min(poll_s_ * 1.5, base_poll_s_ * 4);
    return Status::Ok();
  }

  // The running worker of this attempt wrote no event for its heartbeat_timeout.
  bool Silent(const Tracked& t, double now) {
    std::error_code ec;
    if (!std::filesystem::exists(t.attempt_dir + "/" + kStartedFile, ec) ||
        std::filesystem::exists(t.attempt_dir + "/" + kExitStatusFile, ec)) {
      return false;
    }
    double last = std::max(Mtime(t.attempt_dir + "/" + kStartedFile),
                           Mtime(t.attempt_dir + "/events.jsonl"));
    return now - last > ConfigSeconds(t.config_json, "heartbeat_timeout", 300);
  }

  Status Finish(const Tracked& t, const JobState& job) {
    TaskEnd end;
    end.job = job;
    end.job_id = t.job_id;
    end.slurm_output = SlurmDir(o_.results_dir) + "/" + t.job_id + ".out";
    end.timeout_s = ConfigSeconds(t.config_json, "timeout", 3600);
    end.hung_kill = t.hung_kill;
    end.heartbeat_timeout_s = ConfigSeconds(t.config_json, "heartbeat_timeout", 300);
    AttemptVerdict v = JudgeAttempt(t.attempt_dir, end);
    bool superseded = false;
    if (v.interrupt) {
      if (Status s = db_.InterruptAttempt(t.attempt_id, v.interrupt_reason, &superseded); !s.ok()) return s;
      if (!superseded) {
        ++result_.requeued;
        progress_.OnFinished(t.trial_key, t.job_id, "interrupted", v.interrupt_reason);
      }
      // `orch cancel --study` holds its study's cells in this run's plan: the run goes
      // on with the others (F11), and the held cells are not submitted again.
      auto held = db_.Held(o_.run_id, t.trial_key);
      if (!held.ok()) return held.status();
      if (job.state == "CANCELLED" && !t.hung_kill && !*held) {
        // Someone cancelled the sweep's jobs: submitting them again would undo it.
        result_.cancelled = true;
        stopping_ = true;
      }
      return Status::Ok();
    }
    store::AttemptResult r = v.result;
    r.attempt_id = t.attempt_id;
    r.terminal = IsTerminal(r, v.killed_for, t.try_number, t.config_json);
    if (Status s = db_.FinishAttempt(r, &superseded); !s.ok()) return s;
    if (!superseded) {
      ++result_.recorded;
      progress_.OnFinished(t.trial_key, t.job_id, r.outcome, r.reason);
    }
    return Status::Ok();
  }

  store::Store& db_;
  const ExecutorOptions& o_;
  SlurmProgress& progress_;
  SlurmClient client_;
  std::map<int64_t, Tracked> tracked_;
  ExecutorResult result_;
  bool stopping_ = false;
  int batch_ = 0;
  double base_poll_s_ = 30, poll_s_ = 30;
  Clock::time_point next_poll_, next_lease_;
};

}  // namespace

std::string SlurmDir(const std::string& results_dir) { return results_dir + "/slurm"; }

StatusOr<std::vector<store::AttemptRecord>> UnfinishedJobs(const store::Store& db,
                                                           int64_t sweep_id,
                                                           const std::string& study) {
  return db.UnfinishedJobAttempts(sweep_id, study);  // one query: resume stays fast
}

StatusOr<bool> LastRanOnSlurm(const store::Store& db, int64_t sweep_id) {
  // One query: it was a query per trial, paid by every `orch resume`.
  auto latest = db.LatestAttempt(sweep_id);
  if (!latest.ok()) return latest.status();
  return *latest && !(*latest)->job_id.empty();
}

StatusOr<ExecutorResult> RunOnSlurm(store::Store& db, const ExecutorOptions& opts,
                                    SlurmProgress& progress) {
  SlurmLoop loop(db, opts, progress);
  return loop.Run();
}

StatusOr<int> CancelSweepJobs(store::Store& db, int64_t sweep_id, const std::string& study) {
  auto found = UnfinishedJobs(db, sweep_id, study);
  if (!found.ok()) return found.status();
  const std::vector<store::AttemptRecord>& jobs = *found;
  std::vector<std::string> ids;
  for (const auto& a : jobs) {
    if (a.job_id[0] != '?') ids.push_back(a.job_id);
  }
  SlurmClient client;
  if (Status s = client.Cancel(ids); !s.ok()) return s;
  int n = 0;
  for (const auto& a : jobs) {
    MarkAbandoned(a.attempt_dir);
    bool superseded = false;
    if (Status s = db.InterruptAttempt(a.id, "cancelled by `orch cancel` (SLURM job " + a.job_id + ")", &superseded);
        !s.ok()) {
      return s;
    }
    if (!superseded) ++n;
  }
  return n;
}

}  // namespace orch::slurm
