// Quantized linears against dequantized references computed here in fp32.
#include "worker/quant/quantized_linear.h"

#include <gtest/gtest.h>

namespace orch::worker {
namespace {

QuantSpec Spec(const std::string& name) {
  std::string error;
  auto s = ParseQuant(name, &error);
  if (!s) throw std::runtime_error(error);
  return *s;
}

struct Problem {
  at::Tensor x, w, b;
};
Problem MakeProblem(int64_t m, int64_t n, int64_t k) {
  at::manual_seed(7);
  return {at::randn({m, k}), at::randn({n, k}) * 0.1, at::randn({n}) * 0.1};
}

double RelErr(const at::Tensor& got, const at::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

TEST(QuantizeInt8, RoundTripErrorIsWithinHalfAStep) {
  Problem p = MakeProblem(1, 32, 64);
  Int8Weights q = QuantizeInt8PerChannel(p.w);
  at::Tensor deq = q.q.to(at::kFloat) * q.scale.unsqueeze(1);
  EXPECT_TRUE(((deq - p.w).abs() <= q.scale.unsqueeze(1) * 0.5001).all().item<bool>());
  EXPECT_EQ(q.q.abs().max().item<int>(), 127);  // the largest weight of a row uses the full range
}

TEST(Int8WeightOnly, MatchesDequantizedReference) {
  Problem p = MakeProblem(3, 48, 64);
  Int8Weights q = QuantizeInt8PerChannel(p.w);
  at::Tensor want = at::linear(p.x, q.q.to(at::kFloat) * q.scale.unsqueeze(1), p.b);
  for (const char* name : {"int8wo", "int8wo-dequant"}) {
    auto lin = MakeQuantizedLinear(Spec(name), p.w.clone(), p.b.clone());
    EXPECT_LT(RelErr(lin->Forward(p.x), want), 1e-5) << name;
  }
  auto lin = MakeQuantizedLinear(Spec("int8wo"), p.w.clone(), p.b.clone());
  EXPECT_LT(lin->WeightBytes(), p.w.numel() * 4 / 3);  // int8 + per-row scale + bias
}

TEST(Int8WeightOnly, UnscaledControlIsBroken) {
  Problem p = MakeProblem(1, 48, 64);
  auto lin = MakeQuantizedLinear(Spec("int8wo-unscaled"), p.w.clone(), p.b.clone());
  at::Tensor good = at::linear(p.x, p.w, p.b);
  EXPECT_GT(RelErr(lin->Forward(p.x), good), 10.0);  // off by the missing scale (~1/127 per row)
}

TEST(Int8DynamicActivation, MatchesQuantizedActivationReference) {
  Problem p = MakeProblem(2, 32, 64);
  Int8Weights q = QuantizeInt8PerChannel(p.w);
  at::Tensor xs = p.x.abs().amax(1, true) / 127.0;
  at::Tensor xq = at::round(p.x / xs).clamp(-127, 127);
  at::Tensor want = at::matmul(xq, q.q.to(at::kFloat).t()) * xs * q.scale.unsqueeze(0) + p.b;
  auto lin = MakeQuantizedLinear(Spec("int8da"), p.w.clone(), p.b.clone());
  EXPECT_LT(RelErr(lin->Forward(p.x), want), 1e-5);
  EXPECT_LT(RelErr(lin->Forward(p.x), at::linear(p.x, p.w, p.b)), 0.05);
}

TEST(Int4WeightOnly, MatchesDequantizedReferenceOnCpu) {
  for (int64_t group : {32, 64}) {
    Problem p = MakeProblem(1, 64, 128);
    Int4Weights q = QuantizeInt4Grouped(p.w, group);
    EXPECT_GE(q.q.min().item<int>(), 0);
    EXPECT_LE(q.q.max().item<int>(), 15);
    at::Tensor deq = DequantizeInt4(q, group);
    EXPECT_LT((deq - p.w).abs().max().item<double>(), q.scale.max().item<double>() * 0.51);
    at::Tensor want = at::linear(p.x, deq, p.b);
    auto lin =
        MakeQuantizedLinear(Spec("int4wo-g" + std::to_string(group)), p.w.clone(), p.b.clone());
    EXPECT_LT(RelErr(lin->Forward(p.x), want), 1e-4) << "group " << group;
  }
}

// The CPU linears take 16-bit activations directly (fp32 inside the kernels, output in the
// model dtype): against fp64 references of the same stored weights, to the dtype's rounding.
TEST(CpuLinears, SixteenBitActivationsMatchFp64References) {
  for (at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    const double tol = dtype == at::kBFloat16 ? 2e-2 : 4e-3;
    for (int64_t m : {1, 3, 8, 9}) {  // 9: past the kernels' M range (chunks / ATen)
      Problem p = MakeProblem(m, 96, 128);
      at::Tensor w = p.w.to(dtype), b = p.b.to(dtype), x = p.x.to(dtype);
      const at::Tensor x64 = x.to(at::kDouble), b64 = b.to(at::kDouble);
      Int8Weights q8 = QuantizeInt8PerChannel(w);
      Int4Weights q4 = QuantizeInt4Grouped(w, 32);
      struct Case {
        const char* quant;
        at::Tensor w64;
      };
      for (const Case& c : {Case{"none", w.to(at::kDouble)},
                            Case{"int8wo", q8.q.to(at::kDouble) * q8.scale.to(at::kDouble).unsqueeze(1)},
                            Case{"int4wo-g32", DequantizeInt4(q4, 32).to(at::kDouble)}}) {
        auto lin = MakeQuantizedLinear(Spec(c.quant), w.clone(), b.clone());
        at::Tensor y = lin->Forward(x);
        EXPECT_EQ(y.scalar_type(), dtype) << c.quant;
        const at::Tensor want = at::linear(x64, c.w64, b64);
        EXPECT_LT(RelErr(y.to(at::kDouble), want), tol)
            << c.quant << " " << c10::toString(dtype) << " M=" << m;
      }
    }
  }
}

TEST(CpuLinears, Int4WeightBytesAreHalfAByteAWeightPlusScales) {
  Problem p = MakeProblem(1, 64, 256);
  auto lin = MakeQuantizedLinear(Spec("int4wo-g128"), p.w.clone(), at::Tensor());
  // 64 x 256 / 2 bytes of nibbles + 64 x 2 groups x {scale, zero} fp32.
  EXPECT_EQ(lin->WeightBytes(), 64 * 256 / 2 + 64 * 2 * 2 * 4);
}

TEST(QuantUnsupportedReason, NamesTheMissingPiece) {
  EXPECT_EQ(QuantUnsupportedReason(Spec("int8wo"), at::kCPU, at::kFloat, 64, 64), "");
  std::string r = QuantUnsupportedReason(Spec("int4wo-g128"), at::kCPU, at::kFloat, 64, 64);
  EXPECT_NE(r.find("group size 128"), std::string::npos) << r;
  r = QuantUnsupportedReason(Spec("int4wo-g32"), at::Device(at::kCUDA, 0), at::kHalf, 256, 256);
  EXPECT_NE(r.find("bf16"), std::string::npos) << r;
  std::string error;
  EXPECT_FALSE(ParseQuant("int9wo", &error));
  EXPECT_NE(error.find("int8wo"), std::string::npos);
}

}  // namespace
}  // namespace orch::worker
