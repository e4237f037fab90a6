// CPU-only build: no CUDA int8 kernel.
#include <stdexcept>

#include "worker/quant/int8_gemv.h"

namespace orch::worker {

bool Int8GemvAvailable(const at::Tensor&) { return false; }

at::Tensor Int8GemvCuda(const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  throw std::logic_error("Int8GemvCuda called in a CPU-only build");
}

at::Tensor Int8DaGemvCuda(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                          const at::Tensor&, at::ScalarType) {
  throw std::logic_error("Int8DaGemvCuda called in a CPU-only build");
}

}  // namespace orch::worker
