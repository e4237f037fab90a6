// CPU-only build: no CUDA graphs.
#include <stdexcept>

#include "worker/backend/cuda_graph_step.h"

namespace orch::worker {

std::string CudaGraphUnsupportedReason(at::Device device) {
  if (device.is_cpu()) return "compile=cuda_graph needs a CUDA device; device is cpu";
  return "compile=cuda_graph needs CUDA code; this orch-worker was built without CUDA";
}

std::unique_ptr<CudaGraphStep> CaptureDecodeStep(const GptNeox&, StreamingCache&) {
  throw std::logic_error("CaptureDecodeStep called in a CPU-only build");
}

}  // namespace orch::worker
