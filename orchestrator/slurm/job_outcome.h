// Job outcome: what a finished array task means for each attempt it ran, from SLURM's
// state and the files in the attempt directory, classified exactly as the local executor
// classifies a worker's exit (classify.h) whenever the worker's own exit was recorded:
//   worker exit recorded (exit_status)     -> Classify(exit, result.json, events, worker.log)
//     ... unless SLURM killed it for TIMEOUT / memory: then that class
//   started, no exit recorded, job state:
//     TIMEOUT                              -> timeout (KillReason::kTimeout for retries)
//     OUT_OF_MEMORY, or FAILED whose output says "Exceeded job memory limit" -> oom
//     NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE, REVOKED -> interrupted: runs again
//     CANCELLED (a user, `orch cancel`)    -> interrupted
//     anything else                        -> error, with SLURM's state and output tail
//   never started (the task ended first)   -> interrupted: runs again
// Pure apart from reading the attempt's files.
#pragma once

#include <string>

#include "orchestrator/attempt/classify.h"
#include "orchestrator/attempt/record.h"
#include "orchestrator/slurm/slurm_client.h"
#include "store/records.h"

namespace orch::slurm {

struct TaskEnd {
  JobState job;                   // SLURM's final state of the task
  std::string job_id;             // "12345_7"
  std::string slurm_output;       // the task's --output file
  double timeout_s = 3600;        // the trial's `timeout`
  bool hung_kill = false;         // orch cancelled the task: no heartbeat for heartbeat_s
  double heartbeat_timeout_s = 300;
};

AttemptVerdict JudgeAttempt(const std::string& attempt_dir, const TaskEnd& end);

// The exit status the batch script recorded: "exit N" / "signal N" (the wait status, from
// the task's perl parent), or a bare number (the shell's `$?`, 128+N read as signal N);
// nullopt when none.
std::optional<ExitInfo> RecordedExit(const std::string& attempt_dir);

// A job SLURM no longer knows (F5): the verdict its attempt directory supports on its own,
// from a recorded exit status or a complete result.json; nullopt when it holds neither
// (the attempt is then interrupted and runs again).
std::optional<AttemptVerdict> JudgeFromFiles(const std::string& attempt_dir,
                                             const std::string& job_id);

}  // namespace orch::slurm
