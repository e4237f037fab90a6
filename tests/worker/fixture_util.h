// Helpers shared by the worker tests: the committed tiny GPT-NeoX fixtures
// (tools/make_model_fixtures.py) and a decode loop that returns per-step NLLs.
#pragma once

#include <ATen/ATen.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "worker/model/gpt_neox.h"
#include "worker/model/model_config.h"
#include "worker/weights/model_files.h"
#include "worker/weights/safetensors.h"

namespace orch::worker::testing {

// ORCH_TEST_FIXTURES in the environment overrides the compiled-in path: a test binary built
// on one machine and run from another checkout (tools/gpu/run.sh on the GPU machine).
inline std::string FixturesRoot() {
  const char* env = std::getenv("ORCH_TEST_FIXTURES");
  return env && *env ? std::string(env) : std::string(ORCH_TEST_FIXTURES);
}

inline std::string FixtureDir(const std::string& name) { return FixturesRoot() + "/model/" + name; }

inline ModelConfig FixtureConfig(const std::string& name) {
  std::string error;
  auto c = ReadModelConfig(FixtureDir(name) + "/config.json", &error);
  if (!c) throw std::runtime_error(error);
  return *c;
}

inline std::unique_ptr<GptNeox> LoadFixture(const std::string& name,
                                            at::ScalarType dtype = at::kFloat) {
  std::string error;
  auto files = LocateModel(FixtureDir(name), &error);
  if (!files) throw std::runtime_error(error);
  auto weights = OpenWeights(*files);
  return GptNeox::Load(FixtureConfig(name), *weights, at::kCPU, dtype);
}

struct Reference {
  // `file_name`: reference.safetensors (tools/make_model_fixtures.py) or
  // long_reference.safetensors (tools/make_long_reference.py, tiny-parallel only).
  explicit Reference(const std::string& name,
                     const std::string& file_name = "reference.safetensors")
      : file(FixtureDir(name) + "/" + file_name) {}
  at::Tensor Get(const std::string& tensor) const { return file.View(tensor).clone(); }
  std::vector<int32_t> Ids() const {
    at::Tensor ids = Get("input_ids");
    std::vector<int32_t> out;
    for (int64_t i = 0; i < ids.size(0); ++i)
      out.push_back(static_cast<int32_t>(ids[i].item<int64_t>()));
    return out;
  }
  SafetensorsFile file;
};

// Runs the decode loop over all ids; returns per-step logits [T-1, V] (float32).
inline at::Tensor DecodeLogits(GptNeox& model, const at::Tensor& ids, const CachePolicy& policy,
                               bool static_shapes) {
  const int64_t t = ids.size(0);
  StreamingCache cache = model.MakeCache(policy, t, static_shapes);
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i + 1 < t; ++i) {
    cache.BeginStep();
    rows.push_back(model.DecodeStep(ids.narrow(0, i, 1), cache).to(at::kFloat));
    cache.EndStep();
  }
  return at::cat(rows, 0);
}

inline at::Tensor NextTokenNll(const at::Tensor& logits /*[T-1, V]*/,
                               const at::Tensor& ids /*[T]*/) {
  at::Tensor target = ids.narrow(0, 1, logits.size(0));
  return at::logsumexp(logits, 1) - logits.gather(1, target.unsqueeze(1)).squeeze(1);
}

inline double MaxRelError(const at::Tensor& got, const at::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

}  // namespace orch::worker::testing
