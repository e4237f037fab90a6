// SLURM options: what `orch run --executor slurm` asks of SLURM, from the spec's `slurm:`
// block and the command line (which wins), and the sbatch arguments they become.
// Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/plan/spec.h"

namespace orch::slurm {

struct SlurmOptions {
  std::string partition;       // -p
  int gpus = 0;                // GPUs per array task: --gres=gpu:N (unless `gres` is set)
  std::string gres;            // --gres, as written (e.g. "gpu:a100:1")
  int cpus_per_task = 0;       // --cpus-per-task; also ORCH_WORKER_THREADS in the task
  std::string mem;             // --mem, e.g. "16G"
  std::string time;            // --time; "" = from the trials' `timeout` plus time_margin_s
  std::string account, qos, constraint;
  std::vector<std::string> sbatch_args;  // passed to sbatch as they are, before the script
  int array_throttle = 0;      // "%N" on --array: at most N tasks of an array at once
  int trials_per_task = 1;     // trials one array task runs one after another
  int max_array_size = 1000;   // tasks per array (SLURM's MaxArraySize is 1001 by default)
  double poll_s = 30;          // squeue + sacct once per interval (backs off to 4x when idle)
  double time_margin_s = 60;   // added to the trials' timeouts for --time
};

// Applies the spec's `slurm:` block to `opts`; every problem as a SpecError naming the
// file, line, column and key.
std::vector<SpecError> ApplySlurmBlock(const Spec& spec, SlurmOptions* opts);

// One value set from the command line (`--partition`, ...): key as in the spec block.
// "" on success, else the problem.
std::string ApplySlurmOption(const std::string& key, const std::string& value, SlurmOptions* opts);

// The keys of the `slurm:` block, for messages and docs.
const std::vector<std::string>& SlurmKeys();

// `--time` for an array task that runs trials with these timeouts (seconds) one after
// another: `opts.time` when set, else their sum plus the margin, in whole minutes (SLURM's
// smallest unit), as "D-HH:MM:SS".
std::string TaskTimeLimit(const SlurmOptions& opts, const std::vector<double>& timeouts_s);

// sbatch's arguments for an array of `tasks` tasks (not the program name, not the
// script): --parsable --no-requeue --array=0-(tasks-1)[%N] -J name -o output_pattern,
// then the resource options, then opts.sbatch_args.
std::vector<std::string> SbatchArgs(const SlurmOptions& opts, int tasks,
                                    const std::string& job_name, const std::string& output,
                                    const std::string& time_limit);

}  // namespace orch::slurm
