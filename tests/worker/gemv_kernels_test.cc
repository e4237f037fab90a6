// orch-worker's CPU GEMV kernels (worker/cpu_kernels/, through worker/quant/cpu_gemv.h)
// against fp64 references built from the same stored weights: int8 per-channel, int4
// grouped, dense fp32 / bf16 / fp16, at every instruction-set level this CPU runs (portable
// always), at the Pythia-70M shapes (head included), Pythia-2.8B's and awkward ones (K not a
// multiple of any vector width, N odd, one row), M = 1..8 and beyond (chunks of 8).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <string>
#include <vector>

#include "worker/cpu_kernels/gemv_kernels.h"
#include "worker/quant/cpu_gemv.h"
#include "worker/quant/quantized_linear.h"

namespace orch::worker {
namespace {

struct Shape {
  int64_t n, k;
};

// Pythia-70M's linears (qkv, dense, fc_in, fc_out) and odd shapes; the head separately.
const std::vector<Shape> kSmallShapes = {{1536, 512}, {512, 512},  {2048, 512}, {512, 2048},
                                         {37, 77},    {1, 13},     {3, 1},      {101, 515}};
const std::vector<Shape> kLargeShapes = {{50304, 512},   {7680, 2560},  {2560, 2560},
                                         {10240, 2560}, {2560, 10240}};

// Largest |y - ref| relative to what fp32 accumulation of these terms may lose:
// 4 * 2^-24 * sqrt(K) * (sum_k |x w| + |bias|) (accumulation, bias add) + tol_rel * |ref|
// (rounding of the output to a 16-bit dtype).
// <= 1 passes. A wrong nibble, scale or row shows up as ~1 / tol_abs.
double ErrorRatio(const at::Tensor& y, const at::Tensor& x64, const at::Tensor& w64,
                  const at::Tensor& bias64, double tol_rel) {
  at::Tensor ref = at::mm(x64, w64.t());
  at::Tensor mag = at::mm(x64.abs(), w64.abs().t());
  if (bias64.defined()) {
    ref = ref + bias64;
    mag = mag + bias64.abs();  // the bias add rounds too
  }
  const double k = static_cast<double>(x64.size(1));
  const double tol_abs = 4.0 * std::ldexp(1.0, -24) * std::sqrt(k);
  at::Tensor bound = mag * tol_abs + ref.abs() * tol_rel + 1e-30;
  return ((y.to(at::kDouble) - ref).abs() / bound).max().item<double>();
}

std::string Label(IsaLevel l, Shape s, int64_t m) {
  return std::string(IsaLevelName(l)) + " N=" + std::to_string(s.n) + " K=" + std::to_string(s.k) +
         " M=" + std::to_string(m);
}

std::vector<int64_t> Rows(bool all) {
  return all ? std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 11} : std::vector<int64_t>{1, 8};
}

void CheckInt8(IsaLevel level, Shape s, const std::vector<int64_t>& ms) {
  at::manual_seed(s.n * 31 + s.k);
  Int8Weights q = QuantizeInt8PerChannel(at::randn({s.n, s.k}) * 0.05);
  const at::Tensor bias = at::randn({s.n});
  const at::Tensor w64 = q.q.to(at::kDouble) * q.scale.to(at::kDouble).unsqueeze(1);
  for (int64_t m : ms) {
    const at::Tensor x = at::randn({m, s.k});
    const at::Tensor y = CpuInt8Gemv(x, q.q, q.scale, bias, level);
    EXPECT_LE(ErrorRatio(y, x.to(at::kDouble), w64, bias.to(at::kDouble), 0), 1.0)
        << "int8 " << Label(level, s, m);
  }
}

void CheckInt4(IsaLevel level, Shape s, int64_t group, const std::vector<int64_t>& ms) {
  at::manual_seed(s.n * 17 + s.k + group);
  Int4Weights q = QuantizeInt4Grouped(at::randn({s.n, s.k}) * 0.05, group);
  const CpuInt4Weights packed = PackInt4ForCpu(q.q, q.scale, q.zero, group);
  const at::Tensor bias = at::randn({s.n});
  const int64_t g = s.k / group;
  const at::Tensor w64 = ((q.q.to(at::kDouble).view({s.n, g, group}) - 8.0) *
                              q.scale.to(at::kDouble).unsqueeze(2) +
                          q.zero.to(at::kDouble).unsqueeze(2))
                             .view({s.n, s.k});
  for (int64_t m : ms) {
    const at::Tensor x = at::randn({m, s.k});
    const at::Tensor y = CpuInt4Gemv(x, packed, bias, level);
    EXPECT_LE(ErrorRatio(y, x.to(at::kDouble), w64, bias.to(at::kDouble), 0), 1.0)
        << "int4 g" << group << " " << Label(level, s, m);
  }
}

void CheckDense(IsaLevel level, Shape s, at::ScalarType dtype, const std::vector<int64_t>& ms) {
  at::manual_seed(s.n * 7 + s.k);
  const at::Tensor w = (at::randn({s.n, s.k}) * 0.05).to(dtype);
  const at::Tensor bias = at::randn({s.n});
  for (int64_t m : ms) {
    // x in the weights' dtype, as a model runs it; the reference takes the same values.
    const at::Tensor x = at::randn({m, s.k}).to(dtype);
    const at::Tensor y = CpuDenseGemv(x, w, bias, level);
    ASSERT_EQ(y.scalar_type(), dtype);
    // Output rounded to the dtype: 2^-9 (bf16), 2^-12 (fp16) of |y|.
    const double rel = dtype == at::kBFloat16 ? 1.0 / 256 : dtype == at::kHalf ? 1.0 / 2048 : 0;
    EXPECT_LE(ErrorRatio(y, x.to(at::kDouble), w.to(at::kDouble), bias.to(at::kDouble), rel), 1.0)
        << c10::toString(dtype) << " " << Label(level, s, m);
  }
}

TEST(GemvKernels, PortableLevelIsAlwaysThere) {
  const auto levels = SupportedIsaLevels();
  ASSERT_FALSE(levels.empty());
  EXPECT_EQ(levels.front(), IsaLevel::kPortable);
  for (IsaLevel l : levels) EXPECT_STREQ(GemvKernelsFor(l).name, IsaLevelName(l));
}

// ORCH_GEMV_ISA picks a supported level by name; unset or empty: the best. Anything else is
// an error naming the variable, the value and the valid levels, never a silent fallback.
TEST(GemvIsaChoice, NamedSupportedLevelIsTakenUnsetOrEmptyIsTheBest) {
  const std::vector<IsaLevel> two = {IsaLevel::kPortable, IsaLevel::kAvx2};
  EXPECT_EQ(ChooseIsaLevel(nullptr, two), IsaLevel::kAvx2);
  EXPECT_EQ(ChooseIsaLevel("", two), IsaLevel::kAvx2);
  EXPECT_EQ(ChooseIsaLevel("portable", two), IsaLevel::kPortable);
  EXPECT_EQ(ChooseIsaLevel("avx2", two), IsaLevel::kAvx2);
  for (IsaLevel l : SupportedIsaLevels())
    EXPECT_EQ(ChooseIsaLevel(IsaLevelName(l), SupportedIsaLevels()), l);
}

TEST(GemvIsaChoice, UnknownOrUnsupportedLevelIsAnErrorNamingVariableValueAndValidLevels) {
  const std::vector<IsaLevel> two = {IsaLevel::kPortable, IsaLevel::kAvx2};
  for (const char* bad : {"avx512vnni", "AVX2", "sse4", "avx512 "}) {
    try {
      ChooseIsaLevel(bad, two);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("ORCH_GEMV_ISA=" + std::string(bad)), std::string::npos) << what;
      EXPECT_NE(what.find("valid here: portable, avx2"), std::string::npos) << what;
    }
  }
}

TEST(GemvKernels, Int8MatchesFp64ReferenceAtEveryLevel) {
  for (IsaLevel level : SupportedIsaLevels())
    for (Shape s : kSmallShapes) CheckInt8(level, s, Rows(s.n * s.k < 2'000'000));
}

TEST(GemvKernels, Int4MatchesFp64ReferenceAtEveryLevel) {
  const std::vector<Shape> shapes = {{1536, 512}, {512, 512}, {2048, 512}, {512, 2048},
                                     {37, 768},   {1, 96},    {99, 160}};
  for (IsaLevel level : SupportedIsaLevels())
    for (Shape s : shapes)
      for (int64_t group : {32, 64, 128, 256})
        if (s.k % group == 0) CheckInt4(level, s, group, Rows(s.n * s.k < 300'000));
}

TEST(GemvKernels, DenseMatchesFp64ReferenceAtEveryLevel) {
  for (IsaLevel level : SupportedIsaLevels())
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf})
      for (Shape s : kSmallShapes) CheckDense(level, s, dtype, Rows(s.n * s.k < 300'000));
}

// The full Pythia-70M head and Pythia-2.8B's linears, at the level the worker uses.
TEST(GemvKernels, LargeShapesAtTheChosenLevel) {
  const IsaLevel level = ChosenIsaLevel();
  for (Shape s : kLargeShapes) {
    CheckInt8(level, s, {1, 8});
    CheckInt4(level, s, 128, {1, 8});
    CheckDense(level, s, at::kBFloat16, {1});
  }
}

TEST(GemvKernels, TwoThreadsSplitTheRowsAndAgree) {
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  for (IsaLevel level : SupportedIsaLevels()) {
    CheckInt8(level, {2049, 512}, {1, 3});
    CheckInt4(level, {2049, 512}, 64, {1, 3});
    CheckDense(level, {2049, 512}, at::kFloat, {1, 3});
  }
  at::set_num_threads(before);
}

// The fused step's threads split the int4 outputs anywhere (in multiples of 16 today); a
// split inside a 16-row tile writes only its own rows, each with the whole call's value.
TEST(GemvKernels, Int4RowsSplitInsideTilesEqualTheWholeCall) {
  const int64_t n = 37, k = 64;
  at::manual_seed(3);
  Int4Weights q = QuantizeInt4Grouped(at::randn({n, k}), 32);
  const CpuInt4Weights w = PackInt4ForCpu(q.q, q.scale, q.zero, 32);
  const at::Tensor x = at::randn({2, k});
  at::Tensor whole = at::full({2, n}, -1.f), parts = at::full({2, n}, -1.f);
  CpuInt4GemvRaw(x.data_ptr<float>(), 2, whole.data_ptr<float>(), w, nullptr, 0, n);
  for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 5}, {5, 21}, {21, 36}, {36, 37}})
    CpuInt4GemvRaw(x.data_ptr<float>(), 2, parts.data_ptr<float>(), w, nullptr, b, e);
  EXPECT_TRUE(at::equal(whole, parts));
  at::Tensor none = at::full({2, n}, -1.f);
  CpuInt4GemvRaw(x.data_ptr<float>(), 2, none.data_ptr<float>(), w, nullptr, 17, 17);
  EXPECT_TRUE(at::equal(none, at::full({2, n}, -1.f)));  // an empty range writes nothing
}

// int4 is weight-only: x is not clipped to the fixed point's range; a non-finite value makes
// its row's outputs NaN (as NaN would with fp32 products), never a finite wrong number.
TEST(GemvKernels, Int4NonFiniteActivationGivesNanAtEveryLevel) {
  at::manual_seed(4);
  Int4Weights q = QuantizeInt4Grouped(at::randn({20, 64}), 32);
  const CpuInt4Weights w = PackInt4ForCpu(q.q, q.scale, q.zero, 32);
  at::Tensor x = at::randn({2, 64});
  x[1][50] = std::numeric_limits<float>::infinity();
  for (IsaLevel level : SupportedIsaLevels()) {
    const at::Tensor y = CpuInt4Gemv(x, w, at::Tensor(), level);
    EXPECT_TRUE(at::isfinite(y[0]).all().item<bool>()) << IsaLevelName(level);
    EXPECT_TRUE(at::isnan(y[1]).all().item<bool>()) << IsaLevelName(level);
  }
}

// The attention forms of the fused CPU step: keys as a dense fp32 GEMV whose rows are `ldw`
// apart (M = 1 and 2), and the probabilities times the values (f32_weighted_rows), on a
// [len, 2 hd] key|value layout, hd 64 (Pythia) and 13 (no vector width), against fp64.
TEST(GemvKernels, StridedRowsAndWeightedRowsMatchFp64ReferenceAtEveryLevel) {
  for (IsaLevel level : SupportedIsaLevels()) {
    const GemvKernels& kern = GemvKernelsFor(level);
    for (int64_t hd : {64, 13})
      for (int64_t len : {1, 5, 128}) {
        at::manual_seed(hd * 1000 + len);
        const at::Tensor kv = at::randn({len, 2 * hd}), q = at::randn({2, hd});
        const at::Tensor keys64 = kv.narrow(1, 0, hd).to(at::kDouble);
        for (int m : {1, 2}) {
          at::Tensor y = at::zeros({m, len});
          GemvArgs a;
          a.x = q.data_ptr<float>();
          a.m = m;
          a.k = hd;
          a.n_end = len;
          a.y = y.data_ptr<float>();
          a.ldy = len;
          a.ldw = 2 * hd;
          kern.f32(a, kv.data_ptr<float>());
          EXPECT_LE(ErrorRatio(y, q.narrow(0, 0, m).to(at::kDouble), keys64, at::Tensor(), 0), 1.0)
              << IsaLevelName(level) << " strided hd " << hd << " len " << len << " m " << m;
        }
        const at::Tensor p = at::softmax(at::randn({1, len}), 1);
        at::Tensor out = at::zeros({1, hd});
        kern.f32_weighted_rows(p.data_ptr<float>(), len, kv.data_ptr<float>() + hd, 2 * hd, hd,
                               out.data_ptr<float>());
        const at::Tensor values64 = kv.narrow(1, hd, hd).to(at::kDouble);
        EXPECT_LE(ErrorRatio(out, p.to(at::kDouble), values64.t().contiguous(), at::Tensor(), 0),
                  1.0)
            << IsaLevelName(level) << " weighted rows hd " << hd << " len " << len;
      }
  }
}

TEST(GemvKernels, RejectsWhatTheContractExcludes) {
  const at::Tensor x = at::randn({1, 64});
  Int8Weights q = QuantizeInt8PerChannel(at::randn({8, 32}));
  EXPECT_THROW(CpuInt8Gemv(x, q.q, q.scale, at::Tensor()), std::invalid_argument);  // K differs
  Int4Weights q4 = QuantizeInt4Grouped(at::randn({8, 96}), 32);
  EXPECT_THROW(PackInt4ForCpu(q4.q, q4.scale, q4.zero, 48), std::invalid_argument);
  // scale and zero are stored as fp16: values that are not would change the weights.
  EXPECT_NO_THROW(PackInt4ForCpu(q4.q, q4.scale, q4.zero, 32));
  EXPECT_THROW(PackInt4ForCpu(q4.q, q4.scale * (1.f + std::ldexp(1.f, -20)), q4.zero, 32),
               std::invalid_argument);
  EXPECT_THROW(PackInt4ForCpu(q4.q, q4.scale, q4.zero + std::ldexp(1.f, -20), 32),
               std::invalid_argument);
  EXPECT_THROW(CpuDenseGemv(x, at::randn({8, 64}).to(at::kHalf), at::Tensor()),
               std::invalid_argument);  // dtype differs from x
}

}  // namespace
}  // namespace orch::worker
