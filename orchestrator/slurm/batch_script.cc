#include "orchestrator/slurm/batch_script.h"

namespace orch::slurm {

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string RenderBatchScript(const BatchScript& b) {
  std::string s = "#!/bin/bash\n";
  std::string comment = b.comment;
  for (char& c : comment) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  s += "# " + comment + "\n";
  s += "# Written by orch (orchestrator/slurm/batch_script.h); array task i runs attempts\n"
       "# i*K .. i*K+K-1 one after another.\n";
  s += "set -u\n";
  s += "export ORCH_PROTOCOL=1\n";
  s += "export CUDA_DEVICE_ORDER=${CUDA_DEVICE_ORDER:-PCI_BUS_ID}\n";
  s += "if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ] && [ -z \"${ORCH_WORKER_THREADS:-}\" ]; then\n"
       "  export ORCH_WORKER_THREADS=$SLURM_CPUS_PER_TASK\n"
       "fi\n";
  s += "K=" + std::to_string(b.trials_per_task) + "\n";
  s += "DIRS=(\n";
  for (const auto& d : b.attempt_dirs) s += "  " + ShellQuote(d) + "\n";
  s += ")\n";
  s += "WORKERS=(\n";  // the cell's worker (config `worker`), one per attempt
  for (const auto& w : b.workers) s += "  " + ShellQuote(w) + "\n";
  s += ")\n";
  s += "first=$(( ${SLURM_ARRAY_TASK_ID:?not an array task} * K ))\n";
  s += "for (( i = first; i < first + K && i < ${#DIRS[@]}; i++ )); do\n"
       "  d=${DIRS[i]}\n"
       "  w=${WORKERS[i]}\n"
       "  cd \"$d\" || continue\n"
       "  [ -e abandoned ] && continue\n"
       "  echo \"${SLURM_JOB_ID:-} $(date +%s)\" > slurm_started\n"
       "  \"$w\" --trial \"$d/trial.json\" > worker.log 2>&1 < /dev/null\n"
       "  rc=$?\n"
       "  echo \"$rc\" > exit_status.tmp && mv -f exit_status.tmp exit_status\n"
       "done\n"
       "exit 0\n";
  return s;
}

}  // namespace orch::slurm
