// The SLURM side of `orch run`/`resume`/`status` (orchestrator/slurm/): the command-line
// options, the preflight and closing lines of a run (the run itself goes through the
// Executor seam like a local one, cli/cmd_run.cc), and the reattach `orch status` does.
// Prints; the executor returns data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "orchestrator/slurm/slurm_options.h"
#include "orchestrator/plan/spec.h"
#include "store/store.h"

namespace orch::cli {

// Values given on the command line, applied over the spec's `slurm:` block.
struct SlurmCli {
  std::map<std::string, std::string> values;  // key as in the spec block
  std::vector<std::string> sbatch_args;
  bool detach = false;
};
void AddSlurmOptions(CLI::App* cmd, SlurmCli* cli);

// The spec's block, then the command line; false after printing the errors.
bool ResolveSlurmOptions(const Spec& spec, const SlurmCli& cli, slurm::SlurmOptions* out);

// sbatch --test-only with the run's options: SLURM's own message for a bad partition,
// account or QOS before any trial is claimed. False after printing it.
bool PreflightSlurm(const slurm::SlurmOptions& options, const std::string& results_dir);

// After a run that left its jobs with SLURM (Ctrl-C or --detach): how many, what to run
// next, and the replicates not submitted yet (L6).
void PrintWithSlurm(const store::Store& db, int64_t sweep_id, int still_queued);

// `orch status`: when the sweep has SLURM attempts whose orch is gone (detached or
// killed), one poll records what finished meanwhile. It only observes: it cancels
// nothing (a silent task is for the next `orch resume`) and submits nothing.
// Prints a line about it to stderr; never fails the status command.
void ReattachForStatus(const std::string& db_path, const std::string& sweep_name);

}  // namespace orch::cli
