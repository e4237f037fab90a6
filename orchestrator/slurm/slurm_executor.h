// SLURM executor: runs a sweep's pending trials as SLURM job arrays. The orchestrator stays
// the only database writer: it claims trials (Store::ClaimNext), writes each attempt's
// trial.json (events_path: events.jsonl in the attempt directory), submits them as arrays
// (batch_script.h; the job id of each attempt is stored), polls with one squeue and one
// sacct call per interval for the whole sweep, and records each finished attempt as the
// local executor would (job_outcome.h).
// A cancel is checked before every claim and sbatch; a task orch cancels itself (no
// heartbeat) has why written into its attempt directories first (attempt_files.h,
// orch_kill), so any later orch classifies its end the same way. Attempts with a job id are judged by SLURM's
// state, never by the orch process that submitted them: a later `orch run`/`resume`/
// `status` adopts those whose orch is gone, so killing orch loses nothing and submits
// nothing twice. Ctrl-C detaches (jobs keep running); `orch cancel` cancels them.
// Scheduler thread.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "orchestrator/slurm/slurm_options.h"
#include "store/store.h"

namespace orch::slurm {

class SlurmProgress {
 public:
  virtual ~SlurmProgress() = default;
  virtual void OnSubmitted(const std::string& array_job, int trials, int tasks) = 0;
  virtual void OnFinished(const std::string& trial_key, const std::string& job_id,
                          const std::string& outcome, const std::string& reason) = 0;
  // Something the user should know (a lost job, a heartbeat kill, a poll failure).
  virtual void OnNote(const std::string& line) = 0;
};

struct ExecutorOptions {
  int64_t sweep_id = 0;
  std::string sweep_name;
  int64_t run_id = 0;
  store::Owner owner;
  std::string worker;                                 // absolute path
  std::map<std::string, std::string> workers;         // other workers by name (worker_choice.h)
  nlohmann::json inputs = nlohmann::json::object();   // for trial.json
  std::string results_dir;                            // runs/ and slurm/ live here
  SlurmOptions slurm;
  int interrupt_fd = -1;     // readable on Ctrl-C: stop polling, leave the jobs to SLURM
  double lease_s = 60, lease_refresh_s = 10;
  bool submit = true;        // false: only adopt and ingest (`orch status`)
  bool detach = false;       // submit, then return without waiting
  bool once = false;         // one poll, then return (`orch status`): observe only, no scancel
};

struct ExecutorResult {
  int submitted = 0;     // attempts submitted by this call
  int adopted = 0;       // attempts of a gone orch taken over
  int recorded = 0;      // attempts recorded finished (any outcome)
  int requeued = 0;      // attempts recorded interrupted: pending again
  int still_queued = 0;  // attempts left with SLURM when it returned
  bool interrupted = false;  // Ctrl-C
  bool cancelled = false;    // `orch cancel` asked this run to stop, or a user scancel
};

// Runs (or with `once`/`detach`, advances) the sweep on SLURM. An error (sbatch refused
// the jobs: SLURM's own message; the store failing) leaves every submitted job recorded.
StatusOr<ExecutorResult> RunOnSlurm(store::Store& db, const ExecutorOptions& opts,
                                    SlurmProgress& progress);

// The attempt directory of `slurm/` output files: <results_dir>/slurm.
std::string SlurmDir(const std::string& results_dir);

// `orch cancel`: one scancel for the unfinished SLURM attempts of the sweep (only those
// of `study` when not empty), each then recorded interrupted. Returns how many.
StatusOr<int> CancelSweepJobs(store::Store& db, int64_t sweep_id, const std::string& study);

// Whether the sweep's most recent attempt went to SLURM (`orch resume` then continues on
// SLURM without --executor, e.g. after `orch cancel`).
StatusOr<bool> LastRanOnSlurm(const store::Store& db, int64_t sweep_id);

// The sweep's attempts that have a job id and are not finished.
StatusOr<std::vector<store::AttemptRecord>> UnfinishedJobs(const store::Store& db,
                                                           int64_t sweep_id,
                                                           const std::string& study = "");

}  // namespace orch::slurm
