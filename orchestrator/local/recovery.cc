#include "orchestrator/local/recovery.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <utility>
#include <vector>


#include "orchestrator/attempt/attempt_files.h"
#include "orchestrator/attempt/classify.h"
#include "orchestrator/attempt/ownership.h"
#include "orchestrator/attempt/record.h"

namespace orch {
namespace {

// Waits up to `seconds` for the process to be gone; true when it is.
bool WaitGone(int64_t pid, int64_t start, double seconds) {
  auto end = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  while (SameProcessAlive(pid, start)) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Stops an orphaned worker and its process group (its pgid is its pid: Subprocess
// spawns it as a group leader). A zombie counts as gone once its parent reaps it.
void StopWorker(int64_t pid, int64_t start, double grace_s) {
  pid_t group = static_cast<pid_t>(pid);
  for (int sig : {SIGTERM, SIGCONT}) {
    ::kill(-group, sig);
    ::kill(group, sig);  // in case it is not a group leader
  }
  if (!WaitGone(pid, start, grace_s)) {
    ::kill(group, SIGKILL);
    WaitGone(pid, start, 5);
  }
  ::kill(-group, SIGKILL);  // what is left of the group
}

// Processes (other than this one) whose working directory is `dir` and whose
// environment has ORCH_PROTOCOL: the worker of an
// attempt whose orch died between spawning it and recording its pid (Subprocess starts
// the worker in its attempt directory). Pairs of pid and start time.
std::vector<std::pair<int64_t, int64_t>> ProcessesIn(const std::string& dir) {
  std::vector<std::pair<int64_t, int64_t>> found;
  std::error_code ec;
  std::filesystem::path want = std::filesystem::weakly_canonical(dir, ec);
  if (ec) return found;
  std::filesystem::directory_iterator it("/proc", ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::filesystem::directory_entry& e = *it;
    const std::string name = e.path().filename().string();
    if (name.empty() || name.size() > 12 ||
        name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    int64_t pid = std::stoll(name);
    if (pid == ::getpid()) continue;
    std::error_code link_ec;
    auto cwd = std::filesystem::read_symlink(e.path() / "cwd", link_ec);
    if (link_ec || cwd != want) continue;
    // Only a worker: orch starts every worker with ORCH_PROTOCOL in its environment
    // (a user's shell that merely sits in the directory is left alone).
    std::ifstream env(e.path() / "environ", std::ios::binary);
    std::string environ_text((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (environ_text.rfind("ORCH_PROTOCOL=", 0) != 0 &&
        environ_text.find(std::string("\0ORCH_PROTOCOL=", 15)) == std::string::npos) {
      continue;
    }
    if (auto start = ProcessStartTicks(pid)) found.emplace_back(pid, *start);
  }
  return found;
}

// The attempt's result.json, read as the live path reads it (a regular file, at most
// kMaxResultBytes): the worker writes it atomically and last, so a file that exists is
// complete, and Classify judges its contents exactly as when orch sees the worker exit.
std::optional<std::string> LeftResult(const std::string& attempt_dir) {
  if (attempt_dir.empty()) return std::nullopt;
  return ReadResultFile(ResultFilePath(attempt_dir));
}

double FileAgeBetween(const std::string& from, const std::string& to) {
  std::error_code ec1, ec2;
  auto a = std::filesystem::last_write_time(from, ec1);
  auto b = std::filesystem::last_write_time(to, ec2);
  if (ec1 || ec2) return 0;
  return std::max(0.0, std::chrono::duration<double>(b - a).count());
}

}  // namespace

StatusOr<RecoverySummary> RecoverOrphans(store::Store& db, double kill_grace_s) {
  RecoverySummary sum;
  LocalIdentity me = ThisProcessIdentity();
  double now = UnixNow();
  auto unfinished = db.UnfinishedAttempts();
  if (!unfinished.ok()) return unfinished.status();
  for (const store::AttemptRecord& a : *unfinished) {
    // Submitted to SLURM: judged by SLURM's state (slurm/slurm_executor.h adopts it),
    // never by the orch that submitted it, which is gone by design after --detach.
    if (!a.job_id.empty()) continue;
    auto found = db.FindRun(a.run_id);
    if (!found.ok()) return found.status();
    const std::optional<store::RunRecord>& run = *found;
    if (!run) continue;
    OwnerVerdict verdict = JudgeOwner(*run, me, now);
    if (!verdict.gone) continue;
    bool local = a.owner.host == me.host && run->owner.pid_ns == me.pid_ns && !me.pid_ns.empty();
    if (local && a.worker_pid > 0 && a.worker_pid_start > 0) {
      if (SameProcessAlive(a.worker_pid, a.worker_pid_start)) {
        StopWorker(a.worker_pid, a.worker_pid_start, kill_grace_s);
        ++sum.workers_stopped;
      }
    } else if (local && !a.attempt_dir.empty() &&
               AttemptFileExists(TrialFilePath(a.attempt_dir))) {
      // Spawned (trial.json is written first) but its pid, or the pid's start time (say
      // /proc was unreadable for want of descriptors), was never recorded.
      for (const auto& [pid, start] : ProcessesIn(a.attempt_dir)) {
        StopWorker(pid, start, kill_grace_s);
        ++sum.workers_stopped;
      }
    }
    // The one record path (attempt/record.h), as if this orch had seen the worker end.
    auto trial = db.FindTrial(a.trial_key);
    auto try_number = db.TryNumber(a.id);
    if (!try_number.ok()) return try_number.status();
    AttemptRef ref{a.id, *try_number, trial.ok() ? trial->config_json : "{}"};
    if (auto text = LeftResult(a.attempt_dir)) {
      AttemptObservation obs;
      obs.result_text = *text;
      obs.stderr_tail = ReadTail(a.log_path, 20);
      obs.duration_s = FileAgeBetween(TrialFilePath(a.attempt_dir), ResultFilePath(a.attempt_dir));
      auto rec = RecordVerdict(db, ref, AttemptVerdict::Observed(obs));
      if (!rec.ok()) return rec.status();
      if (!rec->superseded) ++sum.ingested;
      continue;
    }
    auto rec = RecordVerdict(db, ref, AttemptVerdict::Interrupted(verdict.why + "; the attempt was interrupted"));
    if (!rec.ok()) return rec.status();
    bool superseded = rec->superseded;
    if (!superseded) ++sum.interrupted;
  }
  return sum;
}

}  // namespace orch
