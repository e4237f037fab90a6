// ForwardObserver: the seam through which sanity and profile modes look inside a forward
// pass without the model knowing about them. GptNeox calls Begin/End around each section
// of work and Output after each named module; a null observer costs nothing.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace orch::worker {

enum class ForwardSection { kEmbedding, kAttention, kMlp, kNormResidual, kHead };
inline constexpr int kNumForwardSections = 5;

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  virtual void Begin(ForwardSection) {}
  virtual void End(ForwardSection) {}
  // `module` is the Hugging Face module name: gpt_neox.embed_in, gpt_neox.layers.N,
  // gpt_neox.final_layer_norm, embed_out.
  virtual void Output(const std::string& module, const at::Tensor& value) {}
};

// RAII Begin/End pair; tolerates a null observer.
class ObservedSection {
 public:
  ObservedSection(ForwardObserver* obs, ForwardSection s) : obs_(obs), s_(s) {
    if (obs_) obs_->Begin(s_);
  }
  ~ObservedSection() {
    if (obs_) obs_->End(s_);
  }
  ObservedSection(const ObservedSection&) = delete;
  ObservedSection& operator=(const ObservedSection&) = delete;

 private:
  ForwardObserver* obs_;
  ForwardSection s_;
};

}  // namespace orch::worker
