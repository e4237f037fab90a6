// The fused CPU decode step (worker/model/cpu_decode_step.cc) against the tensor path
// (GptNeox::DecodeStep with set_fused_cpu_step(false), itself checked against transformers in
// gpt_neox_test.cc) on the committed fixtures: dense and quantized (int8wo, int4wo-g32, each
// with the head quantized too), full cache and 4 sinks + window 8 (evicting: the fixtures
// have 40 tokens) and window 8 without sinks. Tolerance: logits max relative error < 1e-5
// (the two paths differ only in the rounding of their sums). The fused step's logits at 2 and
// 3 threads against 1 thread: within 1e-5.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "tests/worker/fixture_util.h"

namespace orch::worker {
namespace {

using testing::DecodeLogits;
using testing::LoadFixture;
using testing::MaxRelError;
using testing::Reference;

class FusedCpuStep
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(FusedCpuStep, MatchesTensorPath) {
  const auto& [fixture, quant] = GetParam();
  Reference ref(fixture);
  at::Tensor ids = ref.Get("input_ids");
  std::string error;
  const QuantSpec spec = *ParseQuant(quant, &error);
  auto fused = LoadFixture(fixture);
  auto tensor = LoadFixture(fixture);
  const bool head = spec.method != QuantMethod::kNone;
  fused->Quantize(spec, "all", head);
  tensor->Quantize(spec, "all", head);
  tensor->set_fused_cpu_step(false);
  for (const CachePolicy& policy :
       {CachePolicy{0, std::nullopt}, CachePolicy{4, 8}, CachePolicy{0, 8}}) {
    StreamingCache probe = fused->MakeCache(policy, ids.size(0), false);
    ASSERT_TRUE(fused->UsesFusedCpuStep(probe));
    ASSERT_FALSE(tensor->UsesFusedCpuStep(probe));
    at::Tensor a = DecodeLogits(*fused, ids, policy, false);
    at::Tensor b = DecodeLogits(*tensor, ids, policy, false);
    EXPECT_LT(MaxRelError(a, b), 1e-5) << "n_sink " << policy.n_sink << " window "
                                        << (policy.window ? *policy.window : -1);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FusedCpuStep,
                         ::testing::Combine(::testing::Values("tiny-parallel", "tiny-sequential",
                                                              "tiny-sequential-bin"),
                                            ::testing::Values("none", "int8wo", "int4wo-g32")));

// The step's thread team (worker/cpu_kernels/thread_team.h) splits every GEMV's outputs and
// the heads among the worker's threads: the logits at 2 and 3 threads are those at 1 (each
// value is computed by the same code whatever the split; the bound allows for reassociation).
TEST_P(FusedCpuStep, SameLogitsAtOneTwoAndThreeThreads) {
  const auto& [fixture, quant] = GetParam();
  Reference ref(fixture);
  at::Tensor ids = ref.Get("input_ids");
  std::string error;
  const QuantSpec spec = *ParseQuant(quant, &error);
  auto model = LoadFixture(fixture);
  model->Quantize(spec, "all", spec.method != QuantMethod::kNone);
  const int before = at::get_num_threads();
  for (const CachePolicy& policy : {CachePolicy{0, std::nullopt}, CachePolicy{4, 8}}) {
    at::set_num_threads(1);
    const at::Tensor one = DecodeLogits(*model, ids, policy, false);
    for (int threads : {2, 3}) {
      at::set_num_threads(threads);
      const at::Tensor many = DecodeLogits(*model, ids, policy, false);
      EXPECT_LE((many - one).abs().max().item<double>(), 1e-5)
          << "threads " << threads << " n_sink " << policy.n_sink;
    }
  }
  at::set_num_threads(before);
}

TEST(FusedCpuStepScope, OnlyFp32EagerWithoutObserver) {
  auto bf16 = LoadFixture("tiny-parallel", at::kBFloat16);
  EXPECT_FALSE(bf16->UsesFusedCpuStep(bf16->MakeCache(CachePolicy{4, 8}, 40, false)));
  auto fp32 = LoadFixture("tiny-parallel");
  EXPECT_TRUE(fp32->UsesFusedCpuStep(fp32->MakeCache(CachePolicy{4, 8}, 40, false)));
  EXPECT_FALSE(fp32->UsesFusedCpuStep(fp32->MakeCache(CachePolicy{4, 8}, 40, true)));
  std::string error;
  fp32->Quantize(*ParseQuant("int8da", &error), "all");
  EXPECT_FALSE(fp32->UsesFusedCpuStep(fp32->MakeCache(CachePolicy{4, 8}, 40, false)));
}

}  // namespace
}  // namespace orch::worker
