#include "orchestrator/slurm/slurm_executor.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "orchestrator/attempt/attempt_files.h"
#include "orchestrator/attempt/attempt_dir.h"
#include "orchestrator/attempt/ownership.h"
#include "orchestrator/attempt/record.h"
#include "orchestrator/attempt/retry_policy.h"
#include "orchestrator/slurm/batch_script.h"
#include "orchestrator/slurm/job_outcome.h"
#include "orchestrator/slurm/slurm_client.h"
#include "orchestrator/attempt/trial_document.h"
#include "orchestrator/attempt/worker_choice.h"

namespace orch::slurm {
namespace {

using Clock = std::chrono::steady_clock;

// Polls in a row in which SLURM knew nothing of a job before it counts as lost: squeue
// (`-t all`, which lists ended jobs until MinJobAge) answered without it, and sacct either
// answered without it or is not available (a site without slurmdbd).
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
  (void)WriteAttemptMarker(AbandonedFilePath(attempt_dir), "orch gave this attempt up\n");
}

// The name SLURM knows an array by: "orch-SWEEP-DB-rRUNbBATCH". SWEEP is the sweep name
// reduced to [A-Za-z0-9._-] and 40 bytes (a `/` must not reach the batch script's file
// name, a `,` is a list separator to squeue -n); DB is 8 hex digits of the results
// directory and sweep id, so that two databases with a sweep of one name never share
// job names.
std::string ArrayName(const RunContext& o, int batch) {
  std::string sweep;
  for (char c : o.sweep_name) {
    bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
    sweep += plain ? c : '_';
    if (sweep.size() >= 40) break;
  }
  std::string db = Sha256Hex(o.results_dir + "\n" + std::to_string(o.sweep_id)).substr(0, 8);
  return "orch-" + sweep + "-" + db + "-r" + std::to_string(o.run_id) + "b" + std::to_string(batch);
}

struct Tracked {
  store::Claim claim;  // the attempt (an adopted one's as the store has it)
  std::string job_id;
  int missing = 0;          // consecutive polls that showed the job gone (kLostAfterPolls)
  std::string last_state;
  bool hung_kill = false;   // orch cancelled it for want of heartbeats
};

// Why orch itself cancelled an attempt's task, from the attempt directory (written
// before the scancel, so any orch that judges the task later reads it): "hung" (this
// attempt sent no heartbeat), "task" (a task-mate hung, or its submission was given up),
// "" (orch did not: a user or SLURM did).
std::string OrchKillOf(const std::string& attempt_dir) {
  auto text = ReadAttemptFile(OrchKillFilePath(attempt_dir), 256);
  if (!text) return "";
  std::string word = text->substr(0, text->find_first_of(" \n"));
  return word == "hung" ? word : "task";
}

class SlurmLoop {
 public:
  SlurmLoop(store::Store& db, const RunContext& ctx, const SlurmRunOptions& so, RunSink& sink)
      : db_(db), ctx_(ctx), so_(so), progress_(sink) {
    base_poll_s_ = so.slurm.poll_s;
    if (const char* env = std::getenv("ORCH_SLURM_POLL_S")) {
      double v = std::atof(env);
      if (v > 0) base_poll_s_ = v;
    }
    poll_s_ = base_poll_s_;
  }

  StatusOr<RunOutcome> Run();

 private:
  Status Adopt();
  Status AdoptUnnamed(const store::AttemptRecord& a, Tracked* t, bool* keep);
  Status SubmitPending();
  Status SubmitBatch(const std::vector<store::Claim>& claims, const std::string& slurm_dir);
  Status Abandon(const std::vector<store::Claim>& claims, const Status& why);
  Status Unclaim(const std::vector<store::Claim>& claims, const std::string& why);
  Status GiveUpSubmission(const std::vector<store::Claim>& claims, const std::string& name,
                          const Status& why);
  StatusOr<bool> CheckCancel();
  Status KeepLease(double call_s);
  Status Wait();
  Status PollOnce();
  Status KillHung(const std::vector<int64_t>& hung);
  Status JudgeLost(const Tracked& t);
  bool Silent(const Tracked& t, double now);
  Status Finish(const Tracked& t, const JobState& job);
  Status Record(const Tracked& t, const AttemptVerdict& v, bool user_cancel);

  store::Store& db_;
  const RunContext& ctx_;
  const SlurmRunOptions& so_;
  RunSink& progress_;
  SlurmClient client_;
  std::map<int64_t, Tracked> tracked_;
  RunOutcome result_;
  bool stopping_ = false;
  int batch_ = 0;
  double base_poll_s_ = 30, poll_s_ = 30;
  Clock::time_point next_poll_, next_lease_;
};

StatusOr<RunOutcome> SlurmLoop::Run() {
  if (Status s = Adopt(); !s.ok()) return s;
  next_lease_ = Clock::now() + Ms(ctx_.lease_refresh_s);
  if (so_.once) {
    if (Status s = PollOnce(); !s.ok()) return s;
    result_.still_queued = static_cast<int>(tracked_.size());
    return result_;
  }
  // First poll soon after submitting: short jobs finish in seconds.
  next_poll_ = Clock::now() + Ms(base_poll_s_);
  while (true) {
    auto cancel = CheckCancel();
    if (!cancel.ok()) return cancel.status();
    if (*cancel) stopping_ = true;  // checked right before claiming anything
    if (so_.submit && !stopping_) {
      if (Status s = SubmitPending(); !s.ok()) return s;
    }
    if (so_.detach || tracked_.empty() || stopping_) break;
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

// `orch cancel` asked this run to stop.
StatusOr<bool> SlurmLoop::CheckCancel() {
  if (ctx_.run_id == 0) return false;
  auto cancel = db_.CancelRequested(ctx_.run_id);
  if (!cancel.ok()) return cancel.status();
  if (!*cancel) return false;
  result_.cancelled = true;
  return true;
}

// Before a SLURM call that may take up to `call_s`: the lease covers it, so no other orch
// takes this run for gone while sbatch/squeue/sacct are slow (L3).
Status SlurmLoop::KeepLease(double call_s) {
  if (ctx_.run_id == 0 || so_.once) return Status::Ok();
  next_lease_ = Clock::now() + Ms(ctx_.lease_refresh_s);
  return db_.RenewLease(ctx_.run_id, ctx_.lease_s + call_s);
}

// Takes over the sweep's submitted attempts whose orch is gone (or that are ours).
Status SlurmLoop::Adopt() {
  LocalIdentity me = ThisProcessIdentity();
  double now = UnixNow();
  auto jobs = UnfinishedJobs(db_, ctx_.sweep_id);
  if (!jobs.ok()) return jobs.status();
  for (const store::AttemptRecord& a : *jobs) {
    if (a.run_id != ctx_.run_id) {
      auto run = db_.FindRun(a.run_id);
      if (!run.ok()) return run.status();
      if (*run && !JudgeOwner(**run, me, now).gone) continue;  // a live orch polls it
    }
    Tracked t;
    t.claim.attempt_id = a.id;
    t.claim.trial_key = a.trial_key;
    auto trial = db_.FindTrial(a.trial_key);
    t.claim.config_json = trial.ok() ? trial->config_json : "{}";
    t.claim.replicate = a.replicate;
    t.claim.replicates = trial.ok() ? trial->replicates : 1;
    t.claim.attempt_dir = a.attempt_dir;
    t.job_id = a.job_id;
    auto try_number = db_.TryNumber(a.id);
    if (!try_number.ok()) return try_number.status();
    t.claim.try_number = *try_number;
    if (t.job_id[0] == '?') {
      bool keep = false;
      if (Status s = AdoptUnnamed(a, &t, &keep); !s.ok()) return s;
      if (!keep) continue;
    }
    if (a.run_id != ctx_.run_id) ++result_.adopted;
    tracked_[t.claim.attempt_id] = std::move(t);
  }
  if (result_.adopted > 0) {
    progress_.OnNote("took over " + std::to_string(result_.adopted) +
                     " SLURM job(s) of an earlier orch");
  }
  return Status::Ok();
}

// An attempt whose orch died while sbatch ran: SLURM knows the job by its name, or never
// got it. The `abandoned` marker goes first (L2): a job that sbatch queues and starts
// while orch looks it up skips the attempt instead of running it beside its rerun; when
// SLURM does know the job the marker is taken back (a task that read it meanwhile ends
// "never started" and runs again: once, never twice at a time).
Status SlurmLoop::AdoptUnnamed(const store::AttemptRecord& a, Tracked* t, bool* keep) {
  std::string name = t->job_id.substr(1, t->job_id.rfind('_') - 1);
  std::string task = t->job_id.substr(t->job_id.rfind('_') + 1);
  MarkAbandoned(t->claim.attempt_dir);
  if (Status s = KeepLease(SlurmClient::kQueryLimitS * 2); !s.ok()) return s;
  auto found = client_.FindByName(name);
  if (!found.ok()) return Status::Error("asking SLURM for job " + name + ": " + found.status().message());
  if (found->empty()) {
    *keep = false;
    ++result_.requeued;
    return RecordVerdict(db_, {a.id, t->claim.try_number, t->claim.config_json},
                         AttemptVerdict::Interrupted("its orch died while submitting it; SLURM never queued it"))
        .status();
  }
  if (!t->claim.attempt_dir.empty()) (void)::unlink(AbandonedFilePath(t->claim.attempt_dir).c_str());
  t->job_id = *found + "_" + task;
  *keep = true;
  return db_.SetAttemptJob(a.id, t->job_id);
}

Status SlurmLoop::SubmitPending() {
  const int per_task = std::max(1, so_.slurm.trials_per_task);
  const size_t cap = static_cast<size_t>(std::max(1, so_.slurm.max_array_size)) * per_task;
  std::string runs_dir = ctx_.results_dir + "/runs";
  std::string slurm_dir = SlurmDir(ctx_.results_dir);
  std::error_code ec;
  std::filesystem::create_directories(slurm_dir, ec);
  if (ec) return Status::Error(slurm_dir + ": cannot create: " + ec.message());
  while (true) {
    std::vector<store::Claim> claims;
    while (claims.size() < cap) {
      // A cancel is checked before every claim and every sbatch (F1): the trials it just
      // made pending again must not be claimed and submitted by this very loop.
      auto cancel = CheckCancel();
      if (!cancel.ok()) return cancel.status();
      if (*cancel) {
        stopping_ = true;
        return Unclaim(claims, "the sweep was cancelled (`orch cancel`)");
      }
      auto claim = db_.ClaimNext(ctx_.sweep_id, ctx_.run_id, ctx_.owner, "slurm",
                                 [&](const std::string& key, int n) {
                                   return CreateAttemptDir(runs_dir, key, n);
                                 });
      if (!claim.ok()) return Abandon(claims, claim.status());
      if (!claim->has_value()) break;
      store::Claim c = std::move(**claim);
      auto written = WriteTrialDocument(c, ctx_.inputs, EventsFilePath(c.attempt_dir));
      claims.push_back(c);
      if (!written.ok()) return Abandon(claims, written.status());
    }
    if (claims.empty()) return Status::Ok();
    auto cancel = CheckCancel();
    if (!cancel.ok()) return cancel.status();
    if (*cancel) {
      stopping_ = true;
      return Unclaim(claims, "the sweep was cancelled (`orch cancel`)");
    }
    if (Status s = SubmitBatch(claims, slurm_dir); !s.ok()) return s;
  }
}

Status SlurmLoop::SubmitBatch(const std::vector<store::Claim>& claims, const std::string& slurm_dir) {
  const int per_task = std::max(1, so_.slurm.trials_per_task);
  int tasks = static_cast<int>((claims.size() + per_task - 1) / per_task);
  std::string name = ArrayName(ctx_, ++batch_);
  BatchScript b;
  b.trials_per_task = per_task;
  b.comment = "orch sweep " + ctx_.sweep_name + ", run " + std::to_string(ctx_.run_id) +
              ", batch " + std::to_string(batch_);
  std::vector<double> slowest(per_task, 0);
  for (size_t i = 0; i < claims.size(); ++i) {
    b.attempt_dirs.push_back(claims[i].attempt_dir);
    auto worker = WorkerForConfig(claims[i].config_json, ctx_.worker, ctx_.workers);
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
  auto args = SbatchArgs(so_.slurm, tasks, name, slurm_dir + "/%A_%a.out",
                         TaskTimeLimit(so_.slurm, slowest));
  if (Status s = KeepLease(SlurmClient::kSubmitLimitS); !s.ok()) return s;
  auto id = client_.Submit(args, script);
  if (!id.ok()) {
    return GiveUpSubmission(claims, name, Status::Error("sbatch refused the jobs: " + id.status().message()));
  }
  for (size_t i = 0; i < claims.size(); ++i) {
    const store::Claim& c = claims[i];
    Tracked t;
    t.claim = c;
    t.job_id = *id + "_" + std::to_string(i / per_task);
    if (Status s = db_.SetAttemptJob(c.attempt_id, t.job_id); !s.ok()) return s;
    tracked_[t.claim.attempt_id] = std::move(t);
  }
  result_.submitted += static_cast<int>(claims.size());
  progress_.OnSubmitted(*id, static_cast<int>(claims.size()), tasks);
  return Status::Ok();
}

// sbatch failed, or timed out after SLURM had queued the array: the attempts are marked
// abandoned first (a task that starts now skips them), then an array SLURM did queue
// under this name is cancelled, and only then are the trials pending again (L2).
Status SlurmLoop::GiveUpSubmission(const std::vector<store::Claim>& claims,
                                   const std::string& name, const Status& why) {
  for (const auto& c : claims) MarkAbandoned(c.attempt_dir);
  if (Status s = KeepLease(SlurmClient::kQueryLimitS * 3); !s.ok()) return s;
  auto found = client_.FindByName(name);
  if (found.ok() && !found->empty()) {
    for (const auto& c : claims) {
      (void)WriteAttemptMarker(OrchKillFilePath(c.attempt_dir), "task its submission was given up\n");
    }
    if (Status s = client_.Cancel({*found}); !s.ok()) progress_.OnNote("scancel: " + s.message());
  }
  return Abandon(claims, why);
}

// Claimed attempts that never reached SLURM: pending again (no try used), and marked
// so that a script that might still start them skips them.
Status SlurmLoop::Abandon(const std::vector<store::Claim>& claims, const Status& why) {
  if (Status s = Unclaim(claims, why.message()); !s.ok()) return s;
  return why;
}

Status SlurmLoop::Unclaim(const std::vector<store::Claim>& claims, const std::string& why) {
  for (const auto& c : claims) {
    MarkAbandoned(c.attempt_dir);
    auto rec = RecordVerdict(db_, {c.attempt_id, c.try_number, c.config_json},
                             AttemptVerdict::Interrupted("not submitted: " + why));
    if (!rec.ok()) return rec.status();
  }
  return Status::Ok();
}

// Sleeps until the next poll, renewing the lease and watching Ctrl-C and `orch cancel`.
Status SlurmLoop::Wait() {
  while (true) {
    Clock::time_point now = Clock::now();
    if (now >= next_lease_) {
      next_lease_ = now + Ms(ctx_.lease_refresh_s);
      if (Status s = db_.RenewLease(ctx_.run_id, ctx_.lease_s); !s.ok()) return s;
      auto cancel = CheckCancel();
      if (!cancel.ok()) return cancel.status();
      if (*cancel) {  // `orch cancel` scancels the jobs and records them itself
        stopping_ = true;
        return Status::Ok();
      }
    }
    if (now >= next_poll_) return Status::Ok();
    auto until = std::min(next_poll_, next_lease_);
    int ms = static_cast<int>(std::clamp<long long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count(), 0, 1000));
    pollfd p{ctx_.interrupt_fd, POLLIN, 0};
    int rc = ::poll(&p, ctx_.interrupt_fd >= 0 ? 1 : 0, ms);
    if (rc < 0 && errno != EINTR) return Status::Error("poll failed");
    if (rc > 0 && (p.revents & POLLIN)) {
      result_.interrupted = true;
      stopping_ = true;
      return Status::Ok();
    }
  }
}

// One squeue and one sacct for every job of the sweep; records what finished. With
// `once` (`orch status`) it only observes: it records what ended, it cancels nothing.
Status SlurmLoop::PollOnce() {
  if (tracked_.empty()) return Status::Ok();
  std::set<std::string> arrays;
  for (const auto& [id, t] : tracked_) arrays.insert(ArrayJobOf(t.job_id));
  if (Status s = KeepLease(SlurmClient::kQueryLimitS * 2); !s.ok()) return s;
  PollResult p = client_.Poll(arrays);
  if (!p.problem.empty()) progress_.OnNote("polling SLURM: " + p.problem);
  bool changed = false;
  std::vector<int64_t> hung;
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
      if (!so_.once && t.last_state == "RUNNING" && !t.hung_kill && Silent(t, now)) {
        hung.push_back(t.claim.attempt_id);
      }
    } else if ((p.complete || p.queue_answered) && ++t.missing >= kLostAfterPolls) {
      if (Status s = JudgeLost(t); !s.ok()) return s;
      it = tracked_.erase(it);
      changed = true;
      continue;
    }
    ++it;
  }
  if (!hung.empty()) {
    if (Status s = KillHung(hung); !s.ok()) return s;
  }
  // Back off while nothing changes (up to 4x the interval); at once back when it does.
  poll_s_ = changed ? base_poll_s_ : std::min(poll_s_ * 1.5, base_poll_s_ * 4);
  return Status::Ok();
}

// Cancels the tasks of silent attempts. Why is written into every attempt directory of
// each task first (fsynced), so whoever judges the task's end, this orch or a later one,
// classifies the silent attempt `hung` and its never-started task-mates `interrupted`
// (run again), never a user's cancel (F2, F3).
Status SlurmLoop::KillHung(const std::vector<int64_t>& hung) {
  std::set<std::string> tasks;
  for (int64_t id : hung) {
    Tracked& t = tracked_.at(id);
    t.hung_kill = true;
    tasks.insert(t.job_id);
    (void)WriteAttemptMarker(OrchKillFilePath(t.claim.attempt_dir),
                             "hung " + t.job_id + ": no event for its heartbeat_timeout\n");
  }
  for (auto& [id, t] : tracked_) {
    if (tasks.count(t.job_id) && !t.hung_kill) {
      (void)WriteAttemptMarker(OrchKillFilePath(t.claim.attempt_dir),
                               "task " + t.job_id + ": cancelled because a task-mate hung\n");
    }
  }
  progress_.OnNote("no heartbeat: cancelling " + std::to_string(tasks.size()) + " task(s)");
  if (Status s = KeepLease(SlurmClient::kQueryLimitS); !s.ok()) return s;
  if (Status s = client_.Cancel({tasks.begin(), tasks.end()}); !s.ok()) {
    progress_.OnNote("scancel: " + s.message());
  }
  return Status::Ok();
}

// SLURM no longer knows the job (it left the queue, and accounting has no record or
// there is none). Its attempt directory still says what happened (F5): a recorded exit
// or a complete result.json is recorded as such, not run again; only an attempt that
// left neither is interrupted and submitted again (F4).
Status SlurmLoop::JudgeLost(const Tracked& t) {
  // orch cancelled it itself (its record may be gone before the next poll): as cancelled.
  if (t.hung_kill || !OrchKillOf(t.claim.attempt_dir).empty()) return Finish(t, JobState{"CANCELLED", "", ""});
  std::optional<AttemptVerdict> v = JudgeFromFiles(t.claim.attempt_dir, t.job_id);
  if (v) return Record(t, *v, false);
  MarkAbandoned(t.claim.attempt_dir);
  return Record(t, AttemptVerdict::Interrupted("SLURM lost job " + t.job_id + " (neither squeue nor sacct knows it, and it left no result); it will run again"), false);
}

// The running worker of this attempt wrote no event for its heartbeat_timeout.
bool SlurmLoop::Silent(const Tracked& t, double now) {
  if (!AttemptFileExists(StartedFilePath(t.claim.attempt_dir)) ||
      AttemptFileExists(ExitStatusFilePath(t.claim.attempt_dir))) {
    return false;
  }
  double last = std::max(Mtime(StartedFilePath(t.claim.attempt_dir)), Mtime(EventsFilePath(t.claim.attempt_dir)));
  return now - last > ConfigSeconds(t.claim.config_json, "heartbeat_timeout", 300);
}

Status SlurmLoop::Finish(const Tracked& t, const JobState& job) {
  std::string orch_kill = t.hung_kill ? "hung" : OrchKillOf(t.claim.attempt_dir);
  TaskEnd end;
  end.job = job;
  end.job_id = t.job_id;
  end.slurm_output = SlurmDir(ctx_.results_dir) + "/" + t.job_id + ".out";
  end.timeout_s = ConfigSeconds(t.claim.config_json, "timeout", 3600);
  end.hung_kill = orch_kill == "hung";
  end.heartbeat_timeout_s = ConfigSeconds(t.claim.config_json, "heartbeat_timeout", 300);
  // CANCELLED that orch did not order: a user's scancel or `orch cancel`.
  return Record(t, JudgeAttempt(t.claim.attempt_dir, end), job.state == "CANCELLED" && orch_kill.empty());
}

// The one record path (attempt/record.h): interrupted (pending again) or a result.
Status SlurmLoop::Record(const Tracked& t, const AttemptVerdict& v, bool user_cancel) {
  auto rec = RecordVerdict(db_, {t.claim.attempt_id, t.claim.try_number, t.claim.config_json}, v);
  if (!rec.ok()) return rec.status();
  if (!rec->superseded) {
    ++(v.interrupt ? result_.requeued : result_.recorded);
    progress_.OnFinish(t.claim, "job " + t.job_id, rec->result);
  }
  if (!v.interrupt) return Status::Ok();
  // `orch cancel --study` holds its study's cells in this run's plan: the run goes on
  // with the others (F11), and the held cells are not submitted again.
  auto held = db_.Held(ctx_.run_id, t.claim.trial_key);
  if (!held.ok()) return held.status();
  if (user_cancel && !*held) {
    // Someone cancelled the sweep's jobs: submitting them again would undo it.
    result_.cancelled = true;
    stopping_ = true;
  }
  return Status::Ok();
}

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

StatusOr<RunOutcome> SlurmExecutor::Run(store::Store& db, const RunContext& ctx, RunSink& sink) {
  SlurmLoop loop(db, ctx, options_, sink);
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
    auto rec = RecordVerdict(db, {a.id},  // an interrupt: the id alone
                             AttemptVerdict::Interrupted("cancelled by `orch cancel` (SLURM job " + a.job_id + ")"));
    if (!rec.ok()) return rec.status();
    if (!rec->superseded) ++n;
  }
  return n;
}

}  // namespace orch::slurm
