// PyTorch checkpoint reader for `pytorch_model.bin` (torch.save's zip format) when a model
// has no safetensors. Unlike safetensors, LibTorch's unpickler materializes the whole state
// dict in host memory in its stored dtype before tensors move to the device.
#pragma once

#include <memory>
#include <string>

#include "worker/weights/weight_source.h"

namespace orch::worker {

// Throws std::runtime_error naming the path when it cannot be read or is not a state dict.
std::unique_ptr<WeightSource> OpenPytorchBin(const std::string& path);

}  // namespace orch::worker
