// The batch script of one job array: array task i runs the attempts
// [i * trials_per_task, (i + 1) * trials_per_task) of the batch, one after another, each
// as the local executor would (the worker with `--trial <attempt_dir>/trial.json`, in its
// attempt directory, ORCH_PROTOCOL=1, output to worker.log). For each attempt it writes
// two files the orchestrator reads (it is the only database writer):
//   slurm_started   "<SLURM_JOB_ID> <unix time>" just before the worker starts
//   exit_status     the worker's exit status as the shell reports it (128+N: signal N),
//                   written atomically after it exits
// An attempt whose directory holds `abandoned` (written by orch when it gave the attempt
// up) is skipped. GPUs are SLURM's (CUDA_VISIBLE_DEVICES from --gres). Pure.
#pragma once

#include <string>
#include <vector>

namespace orch::slurm {

struct BatchScript {
  std::vector<std::string> attempt_dirs;  // absolute, in task order
  std::vector<std::string> workers;       // each attempt's worker executable (absolute)
  int trials_per_task = 1;
  std::string comment;                    // first comment line (sweep, batch)
};

std::string RenderBatchScript(const BatchScript& b);

// The files the script reads and writes in each attempt directory are named in
// orchestrator/attempt/attempt_files.h.

// A string as one single-quoted shell word.
std::string ShellQuote(const std::string& s);

}  // namespace orch::slurm
