// GptNeox against transformers (fixtures from tools/make_model_fixtures.py).
// Tolerances: fp32 logits max relative error < 1e-4 (relative to max |logit|), fp32 NLL
// absolute < 1e-4; bf16/fp16 mean NLL within 0.05 / 0.02 of the fp32 reference.
#include <gtest/gtest.h>

#include "tests/worker/fixture_util.h"

namespace orch::worker {
namespace {

using testing::DecodeLogits;
using testing::LoadFixture;
using testing::MaxRelError;
using testing::NextTokenNll;
using testing::Reference;

class GptNeoxFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(GptNeoxFixture, ForwardMatchesTransformersLogits) {
  auto model = LoadFixture(GetParam());
  Reference ref(GetParam());
  at::Tensor ids = ref.Get("input_ids");
  model->EnsureRotaryPositions(ids.size(0));
  at::Tensor logits = model->Forward(ids).to(at::kFloat);
  EXPECT_LT(MaxRelError(logits, ref.Get("logits_full")), 1e-4);
}

TEST_P(GptNeoxFixture, FullWindowDecodeMatchesTransformers) {
  auto model = LoadFixture(GetParam());
  Reference ref(GetParam());
  at::Tensor ids = ref.Get("input_ids");
  at::Tensor logits = DecodeLogits(*model, ids, CachePolicy{0, std::nullopt}, false);
  at::Tensor want = ref.Get("logits_full").narrow(0, 0, ids.size(0) - 1);
  EXPECT_LT(MaxRelError(logits, want), 1e-4);
  EXPECT_LT((NextTokenNll(logits, ids) - ref.Get("nll_full")).abs().max().item<double>(), 1e-4);
}

TEST_P(GptNeoxFixture, StreamingWithWindowCoveringSequenceEqualsFullAttention) {
  auto model = LoadFixture(GetParam());
  Reference ref(GetParam());
  at::Tensor ids = ref.Get("input_ids");
  const int64_t t = ids.size(0);
  for (int64_t n_sink : {0, 4}) {
    at::Tensor logits = DecodeLogits(*model, ids, CachePolicy{n_sink, t}, false);
    EXPECT_LT(MaxRelError(logits, ref.Get("logits_full").narrow(0, 0, t - 1)), 1e-4)
        << "n_sink " << n_sink;
  }
}

TEST_P(GptNeoxFixture, StreamingDecodeMatchesStreamingLlmReference) {
  auto model = LoadFixture(GetParam());
  Reference ref(GetParam());
  at::Tensor ids = ref.Get("input_ids");
  const int64_t n_sink = std::stoll(ref.file.metadata().at("n_sink"));
  const int64_t window = std::stoll(ref.file.metadata().at("window"));
  at::Tensor nll = NextTokenNll(DecodeLogits(*model, ids, CachePolicy{n_sink, window}, false), ids);
  EXPECT_LT((nll - ref.Get("nll_stream")).abs().max().item<double>(), 1e-4);
  at::Tensor nosink = NextTokenNll(DecodeLogits(*model, ids, CachePolicy{0, window}, false), ids);
  EXPECT_LT((nosink - ref.Get("nll_stream_nosink")).abs().max().item<double>(), 1e-4);
  // Eviction matters on this fixture, so the comparison above is not vacuous.
  EXPECT_GT((nll - ref.Get("nll_full")).abs().max().item<double>(), 1e-2);
}

TEST_P(GptNeoxFixture, StaticShapeStepEqualsDynamicStep) {
  // The masked full-capacity attention used under CUDA graphs, checked on CPU.
  auto model = LoadFixture(GetParam());
  Reference ref(GetParam());
  at::Tensor ids = ref.Get("input_ids");
  for (auto policy : {CachePolicy{4, 8}, CachePolicy{0, std::nullopt}}) {
    at::Tensor a = DecodeLogits(*model, ids, policy, false);
    at::Tensor b = DecodeLogits(*model, ids, policy, true);
    EXPECT_LT(MaxRelError(b, a), 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GptNeoxFixture,
                         ::testing::Values("tiny-parallel", "tiny-sequential",
                                           "tiny-sequential-bin"));

TEST(GptNeox, ReducedPrecisionStaysNearFp32Reference) {
  Reference ref("tiny-parallel");
  at::Tensor ids = ref.Get("input_ids");
  const double want = ref.Get("nll_stream").mean().item<double>();
  for (auto [dtype, tol] : {std::pair{at::kBFloat16, 0.05}, std::pair{at::kHalf, 0.02}}) {
    auto model = LoadFixture("tiny-parallel", dtype);
    at::Tensor nll = NextTokenNll(DecodeLogits(*model, ids, CachePolicy{4, 8}, false), ids);
    EXPECT_NEAR(nll.mean().item<double>(), want, tol) << c10::toString(dtype);
  }
}

TEST(GptNeox, MissingTensorIsANamedError) {
  std::string error;
  auto files = LocateModel(testing::FixtureDir("tiny-parallel"), &error);
  ASSERT_TRUE(files);
  auto weights = OpenWeights(*files);
  ModelConfig config = testing::FixtureConfig("tiny-parallel");
  config.num_layers = 4;  // the checkpoint has 3
  try {
    GptNeox::Load(config, *weights, at::kCPU, at::kFloat);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("gpt_neox.layers.3."), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace orch::worker
