#include "worker/modes/sanity.h"

#include <cmath>

namespace orch::worker {
namespace {

class FirstNonFiniteModule : public ForwardObserver {
 public:
  void Output(const std::string& module, const at::Tensor& value) override {
    if (first.empty() && !at::isfinite(value).all().item<bool>()) first = module;
  }
  std::string first;
};

}  // namespace

SanityReport RunSanity(const GptNeox& model, const at::Tensor& ids) {
  SanityReport r;
  r.tokens = ids.size(0);
  FirstNonFiniteModule observer;
  at::Tensor logits = model.Forward(ids, &observer).to(at::kFloat);
  r.first_nonfinite_module = observer.first;
  at::Tensor finite_rows = at::isfinite(logits).all(1);
  r.logits_finite = finite_rows.all().item<bool>();
  if (!r.logits_finite)
    r.first_nonfinite_token = at::logical_not(finite_rows).nonzero()[0][0].item<int64_t>();
  const int64_t n = ids.size(0);
  at::Tensor lf = logits.narrow(0, 0, n - 1);
  at::Tensor target = ids.narrow(0, 1, n - 1);
  at::Tensor nll = at::logsumexp(lf, 1) - lf.gather(1, target.unsqueeze(1)).squeeze(1);
  r.loss = nll.mean().item<double>();
  r.loss_finite = std::isfinite(r.loss);
  return r;
}

}  // namespace orch::worker
