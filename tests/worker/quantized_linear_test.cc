// Quantized linears against dequantized references computed here in fp32.
#include "worker/quant/quantized_linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

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

bool HoldsFp16Values(const at::Tensor& t) { return at::equal(t.to(at::kHalf).to(at::kFloat), t); }

// The CPU kernels store scale and zero as fp16: the quantizer rounds them first and picks q
// against the rounded values, so the stored weights are exactly what DequantizeInt4 says and
// each is within half a step of the original -- or, for a group far from 0 relative to its
// span (|zero| > 1024 scale), within fp16's rounding of zero, 2^-11 |zero|.
TEST(QuantizeInt4, ScaleAndZeroAreFp16ValuesAndEveryWeightIsWithinHalfAStep) {
  at::manual_seed(11);
  const int64_t n = 64, k = 256, group = 32;
  // Per row a different spread (1e-3 .. 20) and offset: rows 0..31 within ~30 spreads of 0,
  // rows 32..63 (spread <= 1) up to 10^4 spreads away.
  const at::Tensor spread = at::exp(at::rand({n, 1}) * 10.0 - 7.0);
  spread.narrow(0, 32, 32).clamp_max_(1.0);
  at::Tensor offset = (at::rand({n, 1}) - 0.5) * 60.0 * spread;
  offset.narrow(0, 32, 32).copy_((at::rand({32, 1}) - 0.5) * 2e4 * spread.narrow(0, 32, 32));
  const at::Tensor w = at::randn({n, k}) * spread + offset;
  Int4Weights q = QuantizeInt4Grouped(w, group);
  EXPECT_TRUE(HoldsFp16Values(q.scale));
  EXPECT_TRUE(HoldsFp16Values(q.zero));
  EXPECT_GE(q.q.min().item<int>(), 0);
  EXPECT_LE(q.q.max().item<int>(), 15);
  // In fp64, against the stored (fp16) values; slack for the fp32 arithmetic of the quantizer
  // and of DequantizeInt4 (2^-24 of |zero|, < 1e-4 of the bound here).
  const at::Tensor err = (DequantizeInt4(q, group).to(at::kDouble) - w.to(at::kDouble))
                             .abs()
                             .reshape({n, k / group, group})
                             .amax(2);
  const at::Tensor s64 = q.scale.to(at::kDouble), z64 = q.zero.to(at::kDouble).abs();
  const at::Tensor bound = at::maximum(s64 * 0.5, z64 * std::ldexp(1.0, -11)) * (1 + 1e-4);
  EXPECT_TRUE((err <= bound).all().item<bool>())
      << "worst error / bound " << (err / bound).max().item<double>();
  const at::Tensor near = z64 <= s64 * 1024;
  EXPECT_GT(near.sum().item<int64_t>(), 100);  // both kinds of group are exercised
  EXPECT_GT(at::logical_not(near).sum().item<int64_t>(), 100);
  EXPECT_TRUE(
      (err.masked_select(near) <= s64.masked_select(near) * (0.5 + 1e-4)).all().item<bool>());
  // The scale is the span / 15 rounded up (at most one fp16 ulp, 2^-10 of itself, above it).
  const at::Tensor w3 = w.reshape({n, k / group, group});
  const at::Tensor span = std::get<0>(w3.max(2)) - std::get<0>(w3.min(2));
  EXPECT_TRUE((q.scale * 15.f >= span).all().item<bool>());
  EXPECT_TRUE((q.scale <= span / 15.f * (1.f + 1.f / 1024) * (1.f + 1e-6f)).all().item<bool>());
}

// A group whose span / 15 or zero is beyond fp16 (or holds a non-finite weight) cannot be
// stored: a clear error naming the row and inputs, never an infinite scale.
TEST(QuantizeInt4, GroupBeyondFp16IsAnErrorNamingRowAndInputs) {
  at::Tensor w = at::randn({4, 96}) * 0.1;
  w[2][40] = 2e6f;  // span / 15 > 65504
  try {
    QuantizeInt4Grouped(w, 32);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("output row 2, inputs 32..63"), std::string::npos) << what;
    EXPECT_NE(what.find("fp16"), std::string::npos) << what;
  }
  w = at::randn({4, 96}) * 0.1;
  w[1].narrow(0, 64, 32).add_(70000.f);  // a narrow span around a zero beyond 65504
  EXPECT_THROW(QuantizeInt4Grouped(w, 32), std::invalid_argument);
  w = at::randn({4, 96});
  w[3][5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(QuantizeInt4Grouped(w, 32), std::invalid_argument);
  w[3][5] = 65000.f;  // span / 15 and zero still fit fp16: accepted
  EXPECT_NO_THROW(QuantizeInt4Grouped(w, 32));
}

// Groups narrower than 15 * 2^-14 (constant, or nearly) get fp16's smallest normal scale, not
// a subnormal or zero one: an all-zero group comes back exactly, a nearly constant one
// within 2^-15.
TEST(QuantizeInt4, NarrowGroupsGetTheSmallestNormalFp16Scale) {
  at::Tensor w = at::zeros({2, 64});
  w[0].narrow(0, 0, 32).fill_(0.3f);
  w[1].narrow(0, 32, 32).copy_(at::linspace(-1e-7, 1e-7, 32));
  Int4Weights q = QuantizeInt4Grouped(w, 32);
  EXPECT_TRUE(at::equal(q.scale, at::full({2, 2}, std::ldexp(1.f, -14))));
  const at::Tensor deq = DequantizeInt4(q, 32);
  EXPECT_TRUE(at::equal(deq[0].narrow(0, 32, 32), w[0].narrow(0, 32, 32)));  // zeros exact
  EXPECT_TRUE(at::equal(deq[1].narrow(0, 0, 32), w[1].narrow(0, 0, 32)));
  EXPECT_LE((deq[1] - w[1]).abs().max().item<float>(), std::ldexp(1.f, -15));
  // 0.3 is no fp16 value: the group is off by fp16's rounding of its zero (<= 2^-11 |zero|).
  EXPECT_LE((deq[0] - w[0]).abs().max().item<float>(), std::ldexp(0.31f, -11));
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
  // 64 x 256 / 2 bytes of nibbles + 64 x 2 groups x {scale, zero} fp16.
  EXPECT_EQ(lin->WeightBytes(), 64 * 256 / 2 + 64 * 2 * 2 * 2);
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
