// CudaGraphStep: one GptNeox decode step captured as a CUDA graph and replayed per token,
// which removes the per-kernel launch overhead that dominates small-batch decode. Valid
// only with a StreamingCache built with static_shapes (fixed addresses, device-side
// indices). The CUDA implementation is cuda_graph_step_cuda.cc; the CPU-only build's
// Capture reports why it cannot run. Single-threaded.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "worker/model/gpt_neox.h"
#include "worker/cache/streaming_cache.h"

namespace orch::worker {

class CudaGraphStep {
 public:
  virtual ~CudaGraphStep() = default;
  // Copies `token` (int64 [1]) into the graph's input and replays the graph. Call
  // cache.BeginStep() before and cache.EndStep() after, as for GptNeox::DecodeStep.
  // Returns the graph's static logits tensor (overwritten by the next replay).
  virtual at::Tensor Run(const at::Tensor& token) = 0;
};

// Empty when capture is possible on `device` in this build; otherwise the reason.
std::string CudaGraphUnsupportedReason(at::Device device);

// Warms up and captures a step. Leaves the cache Reset(). Throws c10::Error on CUDA failure.
std::unique_ptr<CudaGraphStep> CaptureDecodeStep(const GptNeox& model, StreamingCache& cache);

}  // namespace orch::worker
