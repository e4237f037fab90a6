// Sanity mode: one full causal forward over the first N tokens that checks numerical
// health module by module: are the logits finite, which is the first module (HF name,
// e.g. gpt_neox.layers.2) whose output is not, and is the loss finite when recomputed in
// fp32. Costs one forward; N is capped by the caller.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "worker/model/gpt_neox.h"

namespace orch::worker {

struct SanityReport {
  int64_t tokens = 0;
  bool logits_finite = true;
  std::string first_nonfinite_module;  // empty when every module's output is finite
  int64_t first_nonfinite_token = -1;  // first position whose logits are not finite
  bool loss_finite = true;
  double loss = 0;  // mean next-token NLL in fp32
};

// ids: int64 [N] on the model's device, N >= 2.
SanityReport RunSanity(const GptNeox& model, const at::Tensor& ids);

}  // namespace orch::worker
