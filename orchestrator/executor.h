// Executor: where a run's attempts execute. The one seam between `orch run`/`resume`
// (cli/cmd_run.cc: plan -> recover -> choose executor -> begin run -> run -> end run) and
// the two places attempts run:
//   LocalExecutor (local/local_executor.h)  worker processes on this machine's slots
//   SlurmExecutor (slurm/slurm_executor.h)  SLURM job arrays
// Both get the same RunContext and report to the same RunSink, and both keep the same
// promises (docs/design.md, "The executor seam"):
//   - a run claims only trials of its own plan (Store::ClaimNext with the run's id: an
//     edited spec's cells belong to the run that planned them, F6);
//   - `orch cancel` is checked before every claim and every submit (F1); `orch cancel
//     --study` stops only that study's attempts (F11);
//   - a kill orch orders (hung, timeout) is known before it is sent, so whoever judges the
//     attempt's end classifies it the same way (F2, F3);
//   - every finished attempt is recorded through one path, attempt/record.h, which the
//     local recovery and the SLURM adoption use too.
// Scheduler thread.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace orch {

class RunningAttempt;

// What every executor needs to know about the run it executes.
struct RunContext {
  int64_t sweep_id = 0;
  std::string sweep_name;
  int64_t run_id = 0;  // 0: no run of its own (`orch status` observing SLURM)
  store::Owner owner;
  std::string worker;                                // the default (orch) worker's executable
  std::map<std::string, std::string> workers;        // other workers by name (worker_choice.h)
  nlohmann::json inputs = nlohmann::json::object();  // for trial.json
  std::string results_dir;                           // runs/ (and slurm/) live here
  int interrupt_fd = -1;  // becomes readable when the user asks to stop (Ctrl-C)
  double lease_s = 60;          // ownership lease length (attempt/ownership.h)
  double lease_refresh_s = 10;  // how often it is renewed

  std::string RunsDir() const { return results_dir + "/runs"; }
};

// What the user sees of a run: the only way executors report progress. The printer
// (cli/progress_printer.h) implements it; executors never print.
class RunSink {
 public:
  virtual ~RunSink() = default;
  // An attempt started on `where` (a local slot; SLURM: reported by OnSubmitted instead).
  virtual void OnStart(const store::Claim& claim, const std::string& where) = 0;
  // A SLURM array was queued with `trials` attempts in `tasks` tasks.
  virtual void OnSubmitted(const std::string& array_job, int trials, int tasks) = 0;
  // About once a second while local workers run, with those running now.
  virtual void OnTick(const std::vector<const RunningAttempt*>& running) = 0;
  // An attempt was recorded: a result, or `interrupted` (pending again). `where` is the
  // slot or "job <SLURM job id>".
  virtual void OnFinish(const store::Claim& claim, const std::string& where,
                        const store::AttemptResult& result) = 0;
  // Something the user should know (a lost job, a heartbeat kill, a poll failure).
  virtual void OnNote(const std::string& line) = 0;
};

// How a run ended, whichever executor ran it.
struct RunOutcome {
  int recorded = 0;      // attempts recorded finished (any outcome)
  int requeued = 0;      // attempts recorded interrupted: pending again
  int submitted = 0;     // SLURM: attempts submitted by this run
  int adopted = 0;       // SLURM: attempts of a gone orch taken over
  int still_queued = 0;  // SLURM: attempts left with SLURM when it returned
  bool interrupted = false;  // Ctrl-C (SLURM: detached, the jobs keep running)
  bool cancelled = false;    // `orch cancel`, or a user's scancel of the jobs
  // Set when the machine failed a worker's start (a full disk, no descriptors left): no
  // new trial was claimed after it, its trial is pending again. What happened.
  std::string machine_fault;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs the sweep's pending trials of the run's plan until none is left, the user stops
  // it, or an error. On error nothing it started is left unrecorded or unstoppable: local
  // workers were stopped, SLURM jobs stay recorded for the next orch to judge.
  virtual StatusOr<RunOutcome> Run(store::Store& db, const RunContext& ctx, RunSink& sink) = 0;
};

}  // namespace orch
