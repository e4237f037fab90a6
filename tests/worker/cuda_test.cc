// CUDA paths of the worker: skipped unless a CUDA device is visible (CI has none; the GPU
// session runs them through tools/gpu/run.sh). Compared with the CPU fp32 fixtures.
#include <gtest/gtest.h>

#include "tests/worker/fixture_util.h"
#include "worker/cuda_graph_step.h"
#include "worker/device.h"
#include "worker/int8_gemv.h"
#include "worker/quantized_linear.h"

namespace orch::worker {
namespace {

const at::Device kCuda(at::kCUDA, 0);

bool HaveCuda() { return BuiltWithCuda() && DeviceUnavailableReason(kCuda).empty(); }

#define REQUIRE_CUDA() \
  if (!HaveCuda()) GTEST_SKIP() << "no CUDA device (or CPU-only build)"

std::unique_ptr<GptNeox> LoadOnCuda(const std::string& name, at::ScalarType dtype) {
  std::string error;
  auto files = LocateModel(testing::FixtureDir(name), &error);
  auto weights = OpenWeights(*files);
  return GptNeox::Load(testing::FixtureConfig(name), *weights, kCuda, dtype);
}

TEST(Cuda, Int8GemvMatchesDequantizedReference) {
  REQUIRE_CUDA();
  at::manual_seed(0);
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    at::Tensor w = at::randn({96, 256}) * 0.1, x = at::randn({2, 256});
    Int8Weights q = QuantizeInt8PerChannel(w);
    at::Tensor want = at::linear(x, q.q.to(at::kFloat) * q.scale.unsqueeze(1));
    at::Tensor got = Int8GemvCuda(x.to(kCuda, dtype), q.q.to(kCuda), q.scale.to(kCuda, dtype))
                         .cpu()
                         .to(at::kFloat);
    const double tol = dtype == at::kFloat ? 1e-5 : 2e-2;
    EXPECT_LT(testing::MaxRelError(got, want), tol) << c10::toString(dtype);
  }
}

TEST(Cuda, DecodeMatchesStreamingReference) {
  REQUIRE_CUDA();
  auto model = LoadOnCuda("tiny-parallel", at::kFloat);
  testing::Reference ref("tiny-parallel");
  at::Tensor ids = ref.Get("input_ids").to(kCuda);
  at::Tensor nll =
      testing::NextTokenNll(testing::DecodeLogits(*model, ids, CachePolicy{4, 8}, false), ids)
          .cpu();
  // TF32 is off by default in ATen for matmul, so fp32 stays near the CPU tolerance.
  EXPECT_LT((nll - ref.Get("nll_stream")).abs().max().item<double>(), 1e-3);
}

TEST(Cuda, GraphReplayEqualsEagerSteps) {
  REQUIRE_CUDA();
  for (auto policy : {CachePolicy{4, 8}, CachePolicy{0, std::nullopt}}) {
    auto model = LoadOnCuda("tiny-parallel", at::kFloat);
    testing::Reference ref("tiny-parallel");
    at::Tensor ids = ref.Get("input_ids").to(kCuda);
    const int64_t t = ids.size(0);
    at::Tensor eager = testing::DecodeLogits(*model, ids, policy, true);
    StreamingCache cache = model->MakeCache(policy, t, true);
    model->EnsureRotaryPositions(cache.capacity());
    auto graph = CaptureDecodeStep(*model, cache);
    std::vector<at::Tensor> rows;
    for (int64_t i = 0; i + 1 < t; ++i) {
      cache.BeginStep();
      rows.push_back(graph->Run(ids.narrow(0, i, 1)).to(at::kFloat).clone());
      cache.EndStep();
    }
    EXPECT_LT(testing::MaxRelError(at::cat(rows, 0).cpu(), eager.cpu()), 1e-5);
  }
}

TEST(Cuda, QuantizedVariantsRunOnBf16) {
  REQUIRE_CUDA();
  at::manual_seed(0);
  at::Tensor w = at::randn({128, 256}) * 0.1, x = at::randn({1, 256}), b = at::randn({128}) * 0.1;
  at::Tensor ref = at::linear(x, w, b);
  for (const char* name : {"int8wo", "int8wo-dequant", "int8da", "int4wo-g64", "int4wo-g128"}) {
    std::string error;
    QuantSpec spec = *ParseQuant(name, &error);
    ASSERT_EQ(QuantUnsupportedReason(spec, kCuda, at::kBFloat16, 128, 256), "") << name;
    auto lin = MakeQuantizedLinear(spec, w.to(kCuda, at::kBFloat16), b.to(kCuda, at::kBFloat16));
    at::Tensor y = lin->Forward(x.to(kCuda, at::kBFloat16)).cpu().to(at::kFloat);
    EXPECT_LT(testing::MaxRelError(y, ref), std::string(name).rfind("int4", 0) == 0 ? 0.15 : 0.05)
        << name;
  }
}

TEST(Cuda, Bf16DecodeNearFp32Reference) {
  REQUIRE_CUDA();
  auto model = LoadOnCuda("tiny-parallel", at::kBFloat16);
  testing::Reference ref("tiny-parallel");
  at::Tensor ids = ref.Get("input_ids").to(kCuda);
  at::Tensor nll =
      testing::NextTokenNll(testing::DecodeLogits(*model, ids, CachePolicy{4, 8}, false), ids)
          .cpu();
  EXPECT_NEAR(nll.mean().item<double>(), ref.Get("nll_stream").mean().item<double>(), 0.05);
}

}  // namespace
}  // namespace orch::worker
