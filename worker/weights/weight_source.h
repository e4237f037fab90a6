// WeightSource: named checkpoint tensors, materialized one at a time on the target device
// and dtype. Loading tensor by tensor bounds the extra host memory to the largest single
// tensor (no full fp32 copy of the model). Not thread-safe; used by the loading thread only.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "worker/weights/model_files.h"

namespace orch::worker {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool Has(const std::string& name) const = 0;
  virtual std::vector<std::string> Names() const = 0;
  // Throws std::runtime_error naming the tensor and file when it is missing or malformed.
  virtual at::Tensor Load(const std::string& name, at::Device device, at::ScalarType dtype) = 0;
  // Bytes of all tensors as stored in the checkpoint.
  virtual int64_t StoredBytes() const = 0;
};

// Opens the weights ModelFiles points at (safetensors shards or pytorch_model.bin).
std::unique_ptr<WeightSource> OpenWeights(const ModelFiles& files);

// Copies `t` (any device, any dtype) to device/dtype, converting on the device when it is a
// GPU so the host never holds a converted copy.
at::Tensor ToDeviceAndDtype(const at::Tensor& t, at::Device device, at::ScalarType dtype);

}  // namespace orch::worker
