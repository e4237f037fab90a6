// The worker's build id, printed by `orch-worker --version` and recorded in every result:
// the orchestrator folds it into trial keys, so a rebuilt worker never reuses old results.
#pragma once

#include <string>

namespace orch::worker {

// One line: "orch-worker <version> git=<commit>[-dirty] libtorch=<v> cuda=<v>|none".
std::string WorkerBuildId();
std::string LibtorchVersion();

}  // namespace orch::worker
