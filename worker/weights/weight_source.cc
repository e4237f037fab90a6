#include "worker/weights/weight_source.h"

#include "worker/weights/safetensors.h"
#include "worker/weights/torch_checkpoint.h"

namespace orch::worker {

std::unique_ptr<WeightSource> OpenWeights(const ModelFiles& files) {
  if (files.format == WeightFormat::kPytorchBin) return OpenPytorchBin(files.weight_paths.front());
  return std::make_unique<SafetensorsWeights>(files.weight_paths);
}

at::Tensor ToDeviceAndDtype(const at::Tensor& t, at::Device device, at::ScalarType dtype) {
  if (device.is_cpu()) return t.to(dtype, /*non_blocking=*/false, /*copy=*/true).contiguous();
  return t.to(device, /*non_blocking=*/false, /*copy=*/true).to(dtype).contiguous();
}

}  // namespace orch::worker
