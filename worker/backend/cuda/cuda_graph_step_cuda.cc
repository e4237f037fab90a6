// CUDA graph capture of the decode step with ATen's CUDAGraph on a side stream.
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>

#include "worker/backend/cuda_graph_step.h"

namespace orch::worker {
namespace {

class CapturedStep : public CudaGraphStep {
 public:
  at::Tensor Run(const at::Tensor& token) override {
    token_.copy_(token);
    graph_.replay();
    return logits_;
  }

  at::Tensor token_;
  at::Tensor logits_;
  at::cuda::CUDAGraph graph_;
};

}  // namespace

std::string CudaGraphUnsupportedReason(at::Device device) {
  if (device.is_cpu()) return "compile=cuda_graph needs a CUDA device; device is cpu";
  return "";
}

std::unique_ptr<CudaGraphStep> CaptureDecodeStep(const GptNeox& model, StreamingCache& cache) {
  TORCH_CHECK(cache.static_shapes(), "CUDA graph capture needs a cache with static shapes");
  auto step = std::make_unique<CapturedStep>();
  step->token_ = at::zeros({1}, at::TensorOptions().dtype(at::kLong).device(model.device()));
  c10::cuda::CUDAGuard device_guard(model.device());
  cache.Reset();
  cache.BeginStep();
  {
    // Capture must not run on the legacy default stream; warm-up steps on the same side
    // stream let cuBLAS and the allocator set themselves up outside the capture.
    c10::cuda::CUDAStreamGuard stream_guard(at::cuda::getStreamFromPool());
    for (int i = 0; i < 2; ++i) model.DecodeStep(step->token_, cache);
    at::cuda::getCurrentCUDAStream().synchronize();
    step->graph_.capture_begin();
    step->logits_ = model.DecodeStep(step->token_, cache);
    step->graph_.capture_end();
  }
  at::cuda::device_synchronize();
  cache.Reset();
  return step;
}

}  // namespace orch::worker
