// Profile mode's instrument: a ForwardObserver that synchronizes the device at every
// section boundary and accumulates wall time per section (embedding, attention, MLP, layer
// norms + residual adds, output head). The rest of the step time is framework overhead.
// Synchronization perturbs the timing it measures; shares are the point, not absolute ms.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <string>

#include "worker/model/forward_observer.h"

namespace orch::worker {

class SectionProfiler : public ForwardObserver {
 public:
  explicit SectionProfiler(at::Device device) : device_(device) {}
  void Begin(ForwardSection s) override;
  void End(ForwardSection s) override;
  double total_ms(ForwardSection s) const { return totals_ms_[static_cast<size_t>(s)]; }

  // profile_share_{embedding,attention,mlp,norm_residual,head,other}, summing to 1, for
  // steps that took `step_ms_total` in all.
  std::map<std::string, double> Shares(double step_ms_total) const;

 private:
  at::Device device_;
  std::array<double, kNumForwardSections> totals_ms_{};
  std::chrono::steady_clock::time_point started_;
  int depth_ = 0;
};

}  // namespace orch::worker
