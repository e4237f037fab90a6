// SLURM executor: runs a sweep's pending trials as SLURM job arrays. The orchestrator stays
// the only database writer: it claims trials (Store::ClaimNext), writes each attempt's
// trial.json (events_path: events.jsonl in the attempt directory), submits them as arrays
// (batch_script.h; the job id of each attempt is stored), polls with one squeue and one
// sacct call per interval for the whole sweep, and records each finished attempt as the
// local executor would (job_outcome.h, then attempt/record.h).
// A cancel is checked before every claim and sbatch; a task orch cancels itself (no
// heartbeat) has why written into its attempt directories first (attempt_files.h,
// orch_kill), so any later orch classifies its end the same way. Attempts with a job id are judged by SLURM's
// state, never by the orch process that submitted them: a later `orch run`/`resume`/
// `status` adopts those whose orch is gone, so killing orch loses nothing and submits
// nothing twice. Ctrl-C detaches (jobs keep running); `orch cancel` cancels them.
// Scheduler thread.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/executor.h"
#include "orchestrator/slurm/slurm_options.h"
#include "store/store.h"

namespace orch::slurm {

// What the SLURM executor needs beyond the RunContext (executor.h).
struct SlurmRunOptions {
  SlurmOptions slurm;
  bool submit = true;   // false: only adopt and ingest (`orch status`)
  bool detach = false;  // submit, then return without waiting
  bool once = false;    // one poll, then return (`orch status`): observe only, no scancel
};

// Runs (or with `once`/`detach`, advances) the sweep on SLURM. A RunContext without a run
// (run_id 0, `orch status`) only observes. An error (sbatch refused the jobs: SLURM's own
// message; the store failing) leaves every submitted job recorded. Ctrl-C detaches.
class SlurmExecutor : public Executor {
 public:
  explicit SlurmExecutor(SlurmRunOptions options) : options_(std::move(options)) {}
  StatusOr<RunOutcome> Run(store::Store& db, const RunContext& ctx, RunSink& sink) override;

 private:
  SlurmRunOptions options_;
};

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
