#include "worker/app/build_id.h"

#include <torch/version.h>

#if ORCH_HAVE_BUILD_INFO
#include "orch_build_info.h"
#endif

namespace orch::worker {

std::string LibtorchVersion() { return TORCH_VERSION; }

std::string WorkerBuildId() {
#if ORCH_HAVE_BUILD_INFO
  std::string git = std::string(ORCH_GIT_COMMIT) + (ORCH_GIT_DIRTY ? "-dirty" : "");
#else
  std::string git = "unknown";
#endif
#if ORCH_WORKER_CUDA
  const std::string cuda = "cuda";
#else
  const std::string cuda = "none";
#endif
  return "orch-worker " ORCH_VERSION " git=" + git + " libtorch=" + LibtorchVersion() +
         " cuda=" + cuda;
}

}  // namespace orch::worker
