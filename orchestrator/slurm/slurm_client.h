// SlurmClient: the SLURM commands the executor uses, each a single call however many jobs
// it concerns: sbatch (one per array), one squeue plus one sacct per poll for every job of
// the sweep, one scancel for a whole cancel. Parsing is pure and unit-tested. Scheduler
// thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace orch::slurm {

// One array task as SLURM reports it.
struct JobState {
  std::string state;      // "PENDING", "RUNNING", "COMPLETED", "TIMEOUT", "CANCELLED", ...
  std::string exit_code;  // sacct's "code:signal", "" from squeue
  std::string reason;     // squeue's reason ("Priority", "Resources", ...)
};

// True for states after which the job never runs again.
bool IsFinalState(const std::string& state);
// "12345" for "12345_7" (the array job id; a plain job id is its own).
std::string ArrayJobOf(const std::string& job_id);

// The name of the user orch runs as (SLURM's -u), "" when unknown.
std::string SlurmUser();

// `squeue -h -r -t all -o %i|%T|%r` lines; `sacct -n -X -P -o JobID,State,ExitCode` lines.
// Unsplit array rows ("123_[4-9%2]") count for each of their tasks; a bare array id
// ("123": sacct's record of an array cancelled before any task started) is kept as it
// is, see StateOf. "CANCELLED by 0" is CANCELLED.
std::map<std::string, JobState> ParseSqueue(const std::string& out);
std::map<std::string, JobState> ParseSacct(const std::string& out);

struct PollResult;
// The state of array task `job_id` ("123_4") in a poll: its own row, else its array's
// bare row when that is final; nullptr when SLURM listed neither.
const JobState* StateOf(const PollResult& p, const std::string& job_id);

struct PollResult {
  // Both calls answered: a job neither knows is lost (not merely unknown for a moment).
  bool complete = false;
  // squeue answered (sacct may not have: a site without accounting). A job that
  // `squeue -t all` no longer lists has ended and left the queue (MinJobAge).
  bool queue_answered = false;
  std::map<std::string, JobState> jobs;  // per task id; sacct's final state wins
  std::string problem;                   // why not complete
};

class SlurmClient {
 public:
  // Submits `script` with `args` (SbatchArgs); the array job id, or an error carrying
  // sbatch's own message. test_only: `sbatch --test-only` (nothing is queued).
  StatusOr<std::string> Submit(const std::vector<std::string>& args, const std::string& script,
                               bool test_only = false);
  // Exactly one squeue and one sacct call for all the array jobs.
  PollResult Poll(const std::set<std::string>& array_jobs);
  // One scancel for all the given job ids (tasks or arrays).
  Status Cancel(const std::vector<std::string>& job_ids);
  // The array job id of this user's job named exactly `name` (squeue -u, then sacct -u;
  // the name is compared by orch, not only matched by SLURM), "" when SLURM has none; an
  // error when SLURM cannot be asked.
  StatusOr<std::string> FindByName(const std::string& name);

  // The longest a call may take (seconds) before it is killed: a caller that holds a
  // lease renews it for this long before calling.
  static constexpr double kSubmitLimitS = 120, kQueryLimitS = 60;
};

}  // namespace orch::slurm
