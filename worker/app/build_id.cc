#include "worker/app/build_id.h"

#include <torch/version.h>

namespace orch::worker {

std::string LibtorchVersion() { return TORCH_VERSION; }

std::string WorkerBuildId() {
#if ORCH_WORKER_CUDA
  const std::string cuda = "cuda";
#else
  const std::string cuda = "none";
#endif
  // No git commit here: the trial key hashes this executable, and a commit that leaves the
  // worker's code alone (docs, the orchestrator, the report) must not make every trial
  // new, or running a sweep again after `git pull` would redo it instead of resuming. The
  // run's provenance records orch's commit (orchestrator/provenance.cc).
  return "orch-worker " ORCH_VERSION " libtorch=" + LibtorchVersion() + " cuda=" + cuda;
}

}  // namespace orch::worker
