// The worker's build id, printed by `orch-worker --version` and recorded in every result:
// the orchestrator folds it into trial keys, so a rebuilt worker never reuses old results.
#pragma once

#include <string>

namespace orch::worker {

// One line: "orch-worker <version> libtorch=<v> cuda=<v>|none". Deliberately without the
// git commit, so the executable (whose SHA-256 is in every trial key) changes only when its
// code or dependencies do.
std::string WorkerBuildId();
std::string LibtorchVersion();

}  // namespace orch::worker
