// The SLURM side of `orch run`/`resume`/`status` (orchestrator/slurm/): the command-line
// options, the run itself with its printed progress, and the reattach `orch status` does.
// Prints; the executor returns data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

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

struct SlurmRunRequest {
  int64_t sweep_id = 0;
  std::string sweep_name, spec_path, worker, results_dir;
  std::string plan_hash;  // the plan this orch expanded: the run claims only its cells (F6)
  nlohmann::json inputs;
  slurm::SlurmOptions options;
  bool detach = false;
  int interrupt_fd = -1;
  int total = 0;
  std::map<std::string, std::string> labels;  // trial key -> "A quant=int8wo"
  std::map<std::string, std::string> workers;  // the spec's other workers by name
};
// Submits, polls, records; returns the exit code (README's exit codes).
int RunSlurm(store::Store& db, const SlurmRunRequest& req);

// `orch status`: when the sweep has SLURM attempts whose orch is gone (detached or
// killed), one poll records what finished meanwhile. It only observes: it cancels
// nothing (a silent task is for the next `orch resume`) and submits nothing.
// Prints a line about it to stderr; never fails the status command.
void ReattachForStatus(const std::string& db_path, const std::string& sweep_name);

}  // namespace orch::cli
