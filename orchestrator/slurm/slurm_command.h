// Running a SLURM client (sbatch, squeue, sacct, scancel): argv only (PATH searched, so a
// site's wrappers or a test's counting wrappers are used), stdout and stderr kept apart,
// a time limit after which its process group is killed. Scheduler thread.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace orch::slurm {

struct CommandResult {
  int exit_code = 0;    // -1 when it did not run to an exit (signal, time limit)
  std::string out;      // stdout (at most 16 MiB)
  std::string err;      // stderr (at most 64 KiB)
  bool ok() const { return exit_code == 0; }
  // "sbatch: error: Batch job submission failed: Invalid partition name specified"
  std::string ErrorText(const std::string& program) const;
};

// An error only when the program could not be started (missing from PATH, no
// descriptors); a program that ran and failed is a CommandResult with its exit code.
StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, double timeout_s = 60);

}  // namespace orch::slurm
