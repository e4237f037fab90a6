#include "orchestrator/recovery.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "orchestrator/classify.h"
#include "orchestrator/ownership.h"
#include "orchestrator/retry_policy.h"

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
  ::kill(-group, SIGTERM);
  ::kill(-group, SIGCONT);
  if (WaitGone(pid, start, grace_s)) {
    ::kill(-group, SIGKILL);  // what is left of the group
    return;
  }
  ::kill(-group, SIGKILL);
  WaitGone(pid, start, 5);
}

// The attempt's result.json when it is complete (a JSON object naming an outcome: the
// worker writes it atomically, last).
std::optional<std::string> CompleteResult(const std::string& attempt_dir) {
  if (attempt_dir.empty()) return std::nullopt;
  auto text = ReadFile(attempt_dir + "/result.json");
  if (!text.ok()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("outcome") || !j["outcome"].is_string()) return std::nullopt;
  return *text;
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
  for (const store::AttemptRecord& a : db.UnfinishedAttempts()) {
    auto run = db.FindRun(a.run_id);
    if (!run) continue;
    OwnerVerdict verdict = JudgeOwner(*run, me, now);
    if (!verdict.gone) continue;
    bool local = a.owner.host == me.host && run->owner.pid_ns == me.pid_ns && !me.pid_ns.empty();
    if (local && a.worker_pid > 0 && SameProcessAlive(a.worker_pid, a.worker_pid_start)) {
      StopWorker(a.worker_pid, a.worker_pid_start, kill_grace_s);
      ++sum.workers_stopped;
    }
    bool superseded = false;
    if (auto text = CompleteResult(a.attempt_dir)) {
      AttemptObservation obs;
      obs.result_text = *text;
      obs.stderr_tail = ReadTail(a.log_path, 20);
      obs.duration_s = FileAgeBetween(a.attempt_dir + "/trial.json", a.attempt_dir + "/result.json");
      store::AttemptResult r = Classify(obs);
      r.attempt_id = a.id;
      auto trial = db.FindTrial(a.trial_key);
      std::string config = trial.ok() ? trial->config_json : "{}";
      r.terminal = IsTerminal(r, KillReason::kNone, db.TryNumber(a.id), config);
      if (Status s = db.FinishAttempt(r, &superseded); !s.ok()) return s;
      if (!superseded) ++sum.ingested;
      continue;
    }
    if (Status s = db.InterruptAttempt(a.id, verdict.why + "; the attempt was interrupted",
                                       &superseded);
        !s.ok()) {
      return s;
    }
    if (!superseded) ++sum.interrupted;
  }
  return sum;
}

}  // namespace orch
