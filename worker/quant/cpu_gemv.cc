#include "worker/quant/cpu_gemv.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace orch::worker {
namespace {

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("CPU GEMV: " + what);
}

const float* OptionalF32(const at::Tensor& t, int64_t n) {
  if (!t.defined()) return nullptr;
  Check(t.is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous() && t.numel() == n,
        "bias must be a contiguous fp32 CPU tensor of N values");
  return t.data_ptr<float>();
}

// Runs `kernel(part)` over N in parallel ranges of at least ~64 KiB of weights each (1 thread:
// one range, no thread hand-off).
template <class Kernel>
void ParallelRows(const GemvArgs& a, int64_t n, double row_bytes, const Kernel& kernel) {
  const int64_t grain = std::max<int64_t>(16, static_cast<int64_t>(65536.0 / row_bytes));
  if (at::get_num_threads() == 1 || n <= grain) {  // no thread-pool hand-off for one range
    GemvArgs part = a;
    part.n_begin = 0;
    part.n_end = n;
    kernel(part);
    return;
  }
  at::parallel_for(0, n, grain, [&](int64_t begin, int64_t end) {
    GemvArgs part = a;
    part.n_begin = begin;
    part.n_end = end;
    kernel(part);
  });
}

GemvArgs RawArgs(const float* x, int m, int64_t k, float* y, int64_t n, const float* bias,
                 int64_t n_begin = 0, int64_t n_end = -1) {
  Check(m >= 1 && m <= kGemvMaxRows, "raw GEMV takes 1.." + std::to_string(kGemvMaxRows) + " rows");
  if (n_end < 0) n_end = n;
  Check(0 <= n_begin && n_begin <= n_end && n_end <= n,
        "raw GEMV rows [" + std::to_string(n_begin) + ", " + std::to_string(n_end) +
            ") outside the weights' " + std::to_string(n));
  GemvArgs a;
  a.x = x;
  a.m = m;
  a.k = k;
  a.y = y;
  a.ldy = n;
  a.bias = bias;
  a.n_begin = n_begin;
  a.n_end = n_end;
  return a;
}

// Sums of x over each group of `g` (the int4 z' term), fp32, for m rows of k values.
void GroupSums(const float* x, int64_t m, int64_t k, int64_t g, std::vector<float>& sums) {
  sums.assign(static_cast<size_t>(m * (k / g)), 0.f);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t i = 0; i < k; ++i) sums[r * (k / g) + i / g] += x[r * k + i];
}

// Runs `kernel(args, m0)` over x's rows in chunks of kGemvMaxRows and over N in parallel
// (ParallelRows).
template <class Kernel>
at::Tensor Run(const at::Tensor& x_in, int64_t n, int64_t k, double row_bytes,
               const at::Tensor& bias, const Kernel& kernel) {
  Check(CpuGemvTakes(x_in), "x must be a 2-D fp32/bf16/fp16 CPU tensor");
  Check(x_in.size(1) == k, "x has " + std::to_string(x_in.size(1)) + " columns, weights have " +
                               std::to_string(k));
  at::Tensor x = x_in.to(at::kFloat).contiguous();
  const int64_t m = x.size(0);
  at::Tensor y = at::empty({m, n}, x.options());
  const float* b = OptionalF32(bias, n);
  for (int64_t m0 = 0; m0 < m; m0 += kGemvMaxRows) {
    const GemvArgs a = RawArgs(x.data_ptr<float>() + m0 * k,
                               static_cast<int>(std::min<int64_t>(kGemvMaxRows, m - m0)), k,
                               y.data_ptr<float>() + m0 * n, n, b);
    ParallelRows(a, n, row_bytes, [&](const GemvArgs& part) { kernel(part, m0); });
  }
  return x_in.scalar_type() == at::kFloat ? y : y.to(x_in.scalar_type());
}

}  // namespace

bool CpuGemvTakes(const at::Tensor& x) {
  const at::ScalarType t = x.scalar_type();
  return x.is_cpu() && x.dim() == 2 &&
         (t == at::kFloat || t == at::kBFloat16 || t == at::kHalf);
}

at::Tensor CpuInt8Gemv(const at::Tensor& x, const at::Tensor& q, const at::Tensor& scale,
                       const at::Tensor& bias, IsaLevel level) {
  Check(q.is_cpu() && q.dim() == 2 && q.scalar_type() == at::kChar && q.is_contiguous(),
        "int8 weights must be a contiguous int8 CPU matrix");
  const int64_t n = q.size(0), k = q.size(1);
  const float* s = OptionalF32(scale, n);
  Check(s != nullptr, "int8 needs an fp32 scale per output row");
  const GemvKernels& kern = GemvKernelsFor(level);
  const int8_t* w = q.data_ptr<int8_t>();
  return Run(x, n, k, static_cast<double>(k), bias,
             [&](const GemvArgs& a, int64_t) { kern.int8(a, w, s); });
}

CpuInt4Weights PackInt4ForCpu(const at::Tensor& q, const at::Tensor& scale,
                              const at::Tensor& zero, int64_t group) {
  const int64_t n = q.size(0), k = q.size(1);
  Check(Int4GroupSupported(group) && k % group == 0,
        "int4 needs a group of 32, 64, 128 or 256 dividing K = " + std::to_string(k));
  // [N, K/32, 2, 16]: the first 16 values of a block go to the low nibbles, the next 16 to
  // the high nibbles of the same 16 bytes.
  at::Tensor v = q.to(at::kByte).reshape({n, k / kInt4BlockK, 2, kInt4BlockK / 2});
  at::Tensor packed = v.select(2, 0).bitwise_or(v.select(2, 1).bitwise_left_shift(4));
  CpuInt4Weights out;
  out.packed = packed.reshape({n, k / 2}).contiguous();
  at::Tensor s = scale.to(at::kFloat);
  out.scale_zero = at::stack({s, zero.to(at::kFloat) - s * 8.f}, 2).contiguous();
  out.group = group;
  return out;
}

at::Tensor CpuInt4Gemv(const at::Tensor& x, const CpuInt4Weights& w, const at::Tensor& bias,
                       IsaLevel level) {
  const int64_t n = w.packed.size(0), k = w.packed.size(1) * 2, g = w.group;
  Check(w.scale_zero.numel() == n * (k / g) * 2, "int4 scale_zero has the wrong size");
  const GemvKernels& kern = GemvKernelsFor(level);
  const uint8_t* packed = w.packed.data_ptr<uint8_t>();
  const float* sz = w.scale_zero.data_ptr<float>();
  // Sums of x over each group (the z' term), fp32, for every row of x.
  std::vector<float> sums;
  const at::Tensor xf = x.to(at::kFloat).contiguous();
  if (x.dim() == 2 && x.size(1) == k) GroupSums(xf.data_ptr<float>(), x.size(0), k, g, sums);
  return Run(xf, n, k, static_cast<double>(k) / 2, bias, [&](const GemvArgs& a, int64_t m0) {
    Int4Extra ex;
    ex.group = g;
    ex.x_group_sums = sums.data() + m0 * (k / g);
    kern.int4(a, packed, sz, ex);
  }).to(x.scalar_type());
}

at::Tensor CpuDenseGemv(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias,
                        IsaLevel level) {
  Check(w.is_cpu() && w.dim() == 2 && w.is_contiguous() && w.scalar_type() == x.scalar_type(),
        "dense weights must be a contiguous CPU matrix in x's dtype");
  const int64_t n = w.size(0), k = w.size(1);
  const GemvKernels& kern = GemvKernelsFor(level);
  const double row_bytes = static_cast<double>(k * w.element_size());
  switch (w.scalar_type()) {
    case at::kFloat: {
      const float* p = w.data_ptr<float>();
      return Run(x, n, k, row_bytes, bias, [&](const GemvArgs& a, int64_t) { kern.f32(a, p); });
    }
    case at::kBFloat16: {
      const auto* p = reinterpret_cast<const uint16_t*>(w.data_ptr());
      return Run(x, n, k, row_bytes, bias, [&](const GemvArgs& a, int64_t) { kern.bf16(a, p); });
    }
    case at::kHalf: {
      const auto* p = reinterpret_cast<const uint16_t*>(w.data_ptr());
      return Run(x, n, k, row_bytes, bias, [&](const GemvArgs& a, int64_t) { kern.f16(a, p); });
    }
    default:
      Check(false, "dense weights must be fp32, bf16 or fp16");
  }
  return at::Tensor();
}

void CpuInt8GemvRaw(const float* x, int m, float* y, const at::Tensor& q, const at::Tensor& scale,
                    const float* bias, int64_t n_begin, int64_t n_end) {
  const int64_t n = q.size(0), k = q.size(1);
  const GemvKernels& kern = GemvKernelsFor(ChosenIsaLevel());
  kern.int8(RawArgs(x, m, k, y, n, bias, n_begin, n_end), q.data_ptr<int8_t>(),
            scale.data_ptr<float>());
}

void CpuInt4GemvRaw(const float* x, int m, float* y, const CpuInt4Weights& w, const float* bias,
                    int64_t n_begin, int64_t n_end) {
  const int64_t n = w.packed.size(0), k = w.packed.size(1) * 2, g = w.group;
  const GemvKernels& kern = GemvKernelsFor(ChosenIsaLevel());
  thread_local std::vector<float> sums;  // per thread: team members each sum x themselves
  GroupSums(x, m, k, g, sums);
  Int4Extra ex;
  ex.group = g;
  ex.x_group_sums = sums.data();
  kern.int4(RawArgs(x, m, k, y, n, bias, n_begin, n_end), w.packed.data_ptr<uint8_t>(),
            w.scale_zero.data_ptr<float>(), ex);
}

void CpuDenseGemvRaw(const float* x, int m, float* y, const at::Tensor& w, const float* bias,
                     int64_t n_begin, int64_t n_end) {
  const int64_t n = w.size(0), k = w.size(1);
  const GemvKernels& kern = GemvKernelsFor(ChosenIsaLevel());
  const GemvArgs a = RawArgs(x, m, k, y, n, bias, n_begin, n_end);
  switch (w.scalar_type()) {
    case at::kFloat:
      return kern.f32(a, w.data_ptr<float>());
    case at::kBFloat16:
      return kern.bf16(a, reinterpret_cast<const uint16_t*>(w.data_ptr()));
    case at::kHalf:
      return kern.f16(a, reinterpret_cast<const uint16_t*>(w.data_ptr()));
    default:
      Check(false, "dense weights must be fp32, bf16 or fp16");
  }
}

}  // namespace orch::worker
