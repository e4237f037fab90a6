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

TEST_P(GptNeoxFixture, EagerAndStaticStepsNeedNoRotaryTable) {
  // DecodeStep computes its angles on the fly: a model whose Forward table was never
  // extended decodes past max_position_embeddings (40 tokens > 32 here) like the reference.
  auto model = LoadFixture(GetParam());
  Reference ref(GetParam());
  at::Tensor ids = ref.Get("input_ids");
  ASSERT_GT(ids.size(0), model->config().max_position_embeddings);
  at::Tensor logits = DecodeLogits(*model, ids, CachePolicy{0, std::nullopt}, true);
  EXPECT_LT((NextTokenNll(logits, ids) - ref.Get("nll_full")).abs().max().item<double>(), 1e-4);
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

TEST(GptNeox, StreamingFarBeyondTheRotaryTableMatchesPosShiftReference) {
  // 320 tokens, ten times the model's 32 positions: keys cached at absolute positions up
  // to 319, the reference's cache positions never above 12 (tools/make_long_reference.py).
  auto model = LoadFixture("tiny-parallel");
  Reference ref("tiny-parallel", "long_reference.safetensors");
  at::Tensor ids = ref.Get("input_ids");
  ASSERT_GE(ids.size(0), 10 * model->config().max_position_embeddings);
  for (bool static_shapes : {false, true}) {
    at::Tensor nll =
        NextTokenNll(DecodeLogits(*model, ids, CachePolicy{4, 8}, static_shapes), ids);
    EXPECT_LT((nll - ref.Get("nll_stream")).abs().max().item<double>(), 1e-4) << static_shapes;
    at::Tensor nosink =
        NextTokenNll(DecodeLogits(*model, ids, CachePolicy{0, 8}, static_shapes), ids);
    EXPECT_LT((nosink - ref.Get("nll_stream_nosink")).abs().max().item<double>(), 1e-4)
        << static_shapes;
  }
}

TEST(GptNeox, RotaryKeepsRelativePositionsAtLargeAbsolutePositions) {
  // <R(a) q, R(a - d) k> = <R(d) q, k>: what lets keys be cached at absolute positions.
  // Pythia-2.8B's rotary (80 * 0.25 = 20 dims, base 10000); float32 angles would be off by
  // ~0.06 rad at a = 1e6 and fail this.
  const int64_t rot = 20;
  at::Tensor inv_freq =
      1.0 / at::pow(10000.0, at::arange(0, rot, 2, at::kLong).to(at::kFloat) / double(rot));
  inv_freq = inv_freq.to(at::kFloat);
  at::manual_seed(0);
  at::Tensor q = at::randn({1, rot}), k = at::randn({1, rot});
  auto rotate = [&](const at::Tensor& x, int64_t p) {
    auto [cos, sin] = RotaryCosSin(at::full({1}, p, at::kLong), inv_freq);
    return ApplyRotary(x, cos, sin);
  };
  const double norm = (q.norm() * k.norm()).item<double>();
  for (int64_t a : {int64_t{5000}, int64_t{1000000}, int64_t{100000003}}) {
    for (int64_t d : {int64_t{0}, int64_t{5}, int64_t{1000}}) {
      const double got = (rotate(q, a) * rotate(k, a - d)).sum().item<double>();
      const double want = (rotate(q, d) * k).sum().item<double>();
      EXPECT_LT(std::abs(got - want) / norm, 1e-5) << "a " << a << " d " << d;
    }
  }
}

TEST(GptNeox, QuantizeHeadStoresTheHeadInInt8) {
  Reference ref("tiny-parallel");
  at::Tensor ids = ref.Get("input_ids");
  std::string error;
  const QuantSpec spec = *ParseQuant("int8wo", &error);
  auto body = LoadFixture("tiny-parallel");
  body->Quantize(spec, "all");
  auto head = LoadFixture("tiny-parallel");
  head->Quantize(spec, "all", /*quantize_head=*/true);
  const ModelConfig& c = head->config();
  // fp32 vocab x hidden becomes int8 vocab x hidden plus one fp32 scale per row.
  EXPECT_EQ(body->WeightBytes() - head->WeightBytes(),
            3 * c.vocab_size * c.hidden_size - 4 * c.vocab_size);
  at::Tensor nll_body = NextTokenNll(DecodeLogits(*body, ids, CachePolicy{4, 8}, false), ids);
  at::Tensor nll_head = NextTokenNll(DecodeLogits(*head, ids, CachePolicy{4, 8}, false), ids);
  EXPECT_GT((nll_head - nll_body).abs().max().item<double>(), 0.0);
  EXPECT_NEAR(nll_head.mean().item<double>(), ref.Get("nll_stream").mean().item<double>(), 0.05);
  EXPECT_EQ(GptNeox::QuantizationUnsupportedReason(c, at::kCPU, at::kFloat, spec, "all", true), "");
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
