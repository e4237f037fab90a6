#include "orchestrator/slurm/job_outcome.h"

#include <sys/stat.h>

#include <algorithm>
#include <string_view>
#include <chrono>
#include <set>
#include <sstream>

#include "orchestrator/attempt/attempt_files.h"
#include "orchestrator/slurm/batch_script.h"
#include "orchestrator/attempt/worker_events.h"

namespace orch::slurm {
namespace {

std::optional<std::string> Slurp(const std::string& path, size_t max) {
  return ReadAttemptFile(path, max);  // a regular file only: never blocks, never unbounded
}

double Mtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
}

double StartedAt(const std::string& dir) {
  auto text = Slurp(StartedFilePath(dir), 256);
  if (!text) return 0;
  std::istringstream in(*text);
  std::string job;
  double t = 0;
  in >> job >> t;
  return t;
}

// What a local run would have observed of the worker, from the files it left.
AttemptObservation Observe(const std::string& dir, const ExitInfo& exit) {
  AttemptObservation obs;
  obs.exit = exit;
  obs.result_text = ReadResultFile(ResultFilePath(dir));
  WorkerEvents events;
  // The end of the file, where a failure event is: a worker whose events outgrew the
  // batch script's cap (or ran where perl is missing and nothing capped them) keeps its
  // last events, as the local executor sees them last.
  bool cut = false;
  if (auto text = ReadAttemptFileTail(EventsFilePath(dir), size_t{64} << 20, &cut)) {
    size_t from = 0;
    if (cut) {  // the first line is partial
      size_t nl = text->find('\n');
      from = nl == std::string::npos ? text->size() : nl + 1;
    }
    events.Feed(std::string_view(*text).substr(from));
    events.Feed("\n");  // a last line without newline still counts
  }
  obs.failure_event = events.failure();
  obs.event_warnings = events.warnings();
  obs.stderr_tail = ReadTail(WorkerLogPath(dir), 20);
  double started = StartedAt(dir), ended = Mtime(ExitStatusFilePath(dir));
  if (started > 0 && ended >= started) obs.duration_s = ended - started;
  return obs;
}

bool MemoryKill(const TaskEnd& end) {
  if (end.job.state == "OUT_OF_MEMORY") return true;
  auto out = Slurp(end.slurm_output, size_t{1} << 20);
  return out && (out->find("Exceeded job memory limit") != std::string::npos ||
                 out->find("oom-kill event") != std::string::npos);
}

}  // namespace

std::optional<ExitInfo> RecordedExit(const std::string& dir) {
  auto text = Slurp(ExitStatusFilePath(dir), 64);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string kind;
  int n = -1;
  ExitInfo e;
  if (!(in >> kind)) return std::nullopt;
  if (kind == "exit" || kind == "signal") {
    // The wait status, from the task's perl parent: exit 130 is an exit, not SIGINT (L5).
    if (!(in >> n) || n < 0 || n > 255) return std::nullopt;
    e.signaled = kind == "signal";
    e.code = n;
    return e;
  }
  std::istringstream bare(kind);  // the shell's `$?` (a task without perl)
  if (!(bare >> n) || n < 0 || n > 255) return std::nullopt;
  if (n > 128 && n <= 128 + 64) {  // the shell's 128+N for a worker killed by signal N
    e.signaled = true;
    e.code = n - 128;
  } else {
    e.code = n;
  }
  return e;
}

std::optional<AttemptVerdict> JudgeFromFiles(const std::string& dir, const std::string& job_id) {
  AttemptVerdict v;
  if (std::optional<ExitInfo> exit = RecordedExit(dir)) {
    v.result = Classify(Observe(dir, *exit));
    return v;
  }
  // No exit recorded (the node went down after the worker wrote its result): a
  // result.json is complete (written atomically, last) and says what was measured.
  AttemptObservation obs = Observe(dir, ExitInfo{});
  if (!obs.result_text) return std::nullopt;
  v.result = Classify(obs);
  v.result.exit_code.reset();
  v.result.reason += v.result.reason.empty() ? "" : " ";
  v.result.reason += "(SLURM job " + job_id + " ended without a recorded exit status)";
  if (v.result.outcome == "ok") v.result.reason.clear();
  return v;
}

AttemptVerdict JudgeAttempt(const std::string& dir, const TaskEnd& end) {
  AttemptVerdict v;
  const std::string& st = end.job.state;
  bool started = AttemptFileExists(StartedFilePath(dir));
  std::optional<ExitInfo> exit = RecordedExit(dir);
  std::string slurm_says = "SLURM: job " + end.job_id + " ended " + st +
                           (end.job.exit_code.empty() ? "" : " (exit " + end.job.exit_code + ")");
  bool timeout = st == "TIMEOUT";
  bool memory = !timeout && (st == "OUT_OF_MEMORY" || st == "FAILED" || st == "CANCELLED") &&
                MemoryKill(end);
  if (exit) {
    AttemptObservation obs = Observe(dir, *exit);
    // A worker killed by a signal while SLURM enforced a limit died of that limit.
    bool killed = exit->signaled && !obs.result_text;
    if (killed && timeout) {
      obs.killed_for = KillReason::kTimeout;
      obs.limit_s = end.timeout_s;
    } else if (killed && end.hung_kill) {
      obs.killed_for = KillReason::kHung;
      obs.limit_s = end.heartbeat_timeout_s;
    }
    v.result = Classify(obs);
    v.killed_for = obs.killed_for;
    if (killed && memory && obs.killed_for == KillReason::kNone) {
      v.result.outcome = "oom";
      v.result.reason = "over the job's memory limit (--mem); " + slurm_says;
    }
    return v;
  }
  if (!started) {
    v.interrupt = true;
    v.interrupt_reason = "the worker never started: " + slurm_says + "; it will run again";
    return v;
  }
  AttemptObservation obs = Observe(dir, ExitInfo{true, 9});
  if (timeout) {
    obs.killed_for = KillReason::kTimeout;
    obs.limit_s = end.timeout_s;
    v.result = Classify(obs);
    v.result.reason += " (" + slurm_says + ")";
    v.killed_for = KillReason::kTimeout;
    return v;
  }
  if (end.hung_kill) {
    obs.killed_for = KillReason::kHung;
    obs.limit_s = end.heartbeat_timeout_s;
    v.result = Classify(obs);
    v.killed_for = KillReason::kHung;
    return v;
  }
  if (memory) {
    v.result = Classify(obs);
    v.result.outcome = "oom";
    v.result.reason = "over the job's memory limit (--mem); " + slurm_says;
    v.result.signal.reset();
    return v;
  }
  static const std::set<std::string> kRetried = {"NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
                                                 "DEADLINE", "REVOKED", "CANCELLED"};
  if (kRetried.count(st)) {
    v.interrupt = true;
    v.interrupt_reason = slurm_says + (st == "CANCELLED" ? "" : "; it will run again");
    return v;
  }
  v.result = Classify(obs);
  v.result.outcome = "error";
  v.result.signal.reset();
  v.result.reason = slurm_says + " before the worker's exit status was recorded";
  std::string tail = ReadTail(end.slurm_output, 5);
  if (!tail.empty()) v.result.stderr_tail = tail;
  return v;
}

}  // namespace orch::slurm
