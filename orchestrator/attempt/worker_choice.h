// Worker choice: which executable runs a cell. The cell's config key `worker` names it
// (docs/protocol.md, "Several workers in one sweep"); absent or "orch" is the sweep's
// default worker (orch-worker), any other name one of the spec's workers (built in:
// `reference`). Both executors (scheduler.cc, slurm/slurm_executor.cc) ask this. Pure.
#pragma once

#include <map>
#include <string>

#include "base/status.h"

namespace orch {

// `workers`: worker name -> absolute path of its executable.
StatusOr<std::string> WorkerForConfig(const std::string& config_json,
                                      const std::string& default_worker,
                                      const std::map<std::string, std::string>& workers);

}  // namespace orch
