#include "orchestrator/slurm/job_outcome.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "orchestrator/slurm/batch_script.h"
#include "orchestrator/worker_events.h"

namespace orch::slurm {
namespace {

std::optional<std::string> Slurp(const std::string& path, size_t max) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s(std::min(max, static_cast<size_t>(st.st_size)), '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

double Mtime(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
}

double StartedAt(const std::string& dir) {
  auto text = Slurp(dir + "/" + kStartedFile, 256);
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
  obs.result_text = ReadResultFile(dir + "/result.json");
  WorkerEvents events;
  if (auto text = Slurp(dir + "/events.jsonl", size_t{64} << 20)) {
    events.Feed(*text);
    events.Feed("\n");  // a last line without newline still counts
  }
  obs.failure_event = events.failure();
  obs.event_warnings = events.warnings();
  obs.stderr_tail = ReadTail(dir + "/worker.log", 20);
  double started = StartedAt(dir), ended = Mtime(dir + "/" + kExitStatusFile);
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
  auto text = Slurp(dir + "/" + kExitStatusFile, 64);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  int rc = -1;
  if (!(in >> rc) || rc < 0 || rc > 255) return std::nullopt;
  ExitInfo e;
  if (rc > 128 && rc <= 128 + 64) {  // the shell's 128+N for a worker killed by signal N
    e.signaled = true;
    e.code = rc - 128;
  } else {
    e.code = rc;
  }
  return e;
}

AttemptVerdict JudgeAttempt(const std::string& dir, const TaskEnd& end) {
  AttemptVerdict v;
  const std::string& st = end.job.state;
  std::error_code ec;
  bool started = std::filesystem::exists(dir + "/" + kStartedFile, ec);
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
  obs.stderr_tail = ReadTail(dir + "/worker.log", 20);
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
