#include "worker/weights/torch_checkpoint.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

namespace orch::worker {
namespace {

class PytorchBinWeights : public WeightSource {
 public:
  explicit PytorchBinWeights(std::map<std::string, at::Tensor> tensors)
      : tensors_(std::move(tensors)) {}
  bool Has(const std::string& name) const override { return tensors_.count(name) != 0; }
  std::vector<std::string> Names() const override {
    std::vector<std::string> names;
    for (const auto& [n, t] : tensors_) names.push_back(n);
    return names;
  }
  at::Tensor Load(const std::string& name, at::Device device, at::ScalarType dtype) override {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::runtime_error("checkpoint has no tensor named " + name);
    at::Tensor t = ToDeviceAndDtype(it->second, device, dtype);
    tensors_.erase(it);  // free host memory as the model takes the tensors over
    return t;
  }
  int64_t StoredBytes() const override {
    int64_t total = 0;
    for (const auto& [n, t] : tensors_) total += t.numel() * static_cast<int64_t>(t.element_size());
    return total;
  }

 private:
  std::map<std::string, at::Tensor> tensors_;
};

}  // namespace

std::unique_ptr<WeightSource> OpenPytorchBin(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": cannot unpickle (" + e.what_without_backtrace() + ")");
  }
  bytes.clear();
  bytes.shrink_to_fit();
  if (!value.isGenericDict()) throw std::runtime_error(path + ": not a state dict");
  std::map<std::string, at::Tensor> tensors;
  for (const auto& kv : value.toGenericDict()) {
    if (!kv.key().isString() || !kv.value().isTensor()) continue;
    tensors[kv.key().toStringRef()] = kv.value().toTensor();
  }
  return std::make_unique<PytorchBinWeights>(std::move(tensors));
}

}  // namespace orch::worker
