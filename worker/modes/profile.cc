#include "worker/modes/profile.h"

#include <algorithm>

#include "worker/backend/device.h"

namespace orch::worker {

void SectionProfiler::Begin(ForwardSection) {
  // Sections do not nest in GptNeox; depth guards against double counting if they ever do.
  if (depth_++ > 0) return;
  SynchronizeDevice(device_);
  started_ = std::chrono::steady_clock::now();
}

void SectionProfiler::End(ForwardSection s) {
  if (--depth_ > 0) return;
  SynchronizeDevice(device_);
  totals_ms_[static_cast<size_t>(s)] +=
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
          .count();
}

std::map<std::string, double> SectionProfiler::Shares(double step_ms_total) const {
  static const char* kNames[kNumForwardSections] = {"embedding", "attention", "mlp",
                                                    "norm_residual", "head"};
  std::map<std::string, double> out;
  double sum = 0;
  for (int i = 0; i < kNumForwardSections; ++i) sum += totals_ms_[static_cast<size_t>(i)];
  const double total = std::max(step_ms_total, sum);  // never a negative "other"
  for (int i = 0; i < kNumForwardSections; ++i)
    out[std::string("profile_share_") + kNames[i]] =
        total > 0 ? totals_ms_[static_cast<size_t>(i)] / total : 0;
  out["profile_share_other"] = total > 0 ? (total - sum) / total : 0;
  return out;
}

}  // namespace orch::worker
