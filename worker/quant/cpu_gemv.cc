#include "worker/quant/cpu_gemv.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "worker/cpu_kernels/int4_activations.h"

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

// Runs `kernel(part)` over N in parallel ranges of at least ~64 KiB of weights each, whose
// bounds are multiples of `align` rows (int4: whole tiles), 1 thread: one range, no thread
// hand-off.
template <class Kernel>
void ParallelRows(const GemvArgs& a, int64_t n, double row_bytes, int64_t align,
                  const Kernel& kernel) {
  int64_t grain = std::max<int64_t>(16, static_cast<int64_t>(65536.0 / row_bytes));
  grain = (grain + align - 1) / align * align;
  if (at::get_num_threads() == 1 || n <= grain) {  // no thread-pool hand-off for one range
    GemvArgs part = a;
    part.n_begin = 0;
    part.n_end = n;
    kernel(part);
    return;
  }
  at::parallel_for(0, (n + align - 1) / align, grain / align, [&](int64_t begin, int64_t end) {
    GemvArgs part = a;
    part.n_begin = begin * align;
    part.n_end = std::min(n, end * align);
    kernel(part);
  });
}

// The fp16 {s, zero} as the kernels read them (IEEE binary16 bits).
const uint16_t* ScaleZeroBits(const CpuInt4Weights& w) {
  return reinterpret_cast<const uint16_t*>(w.scale_zero.data_ptr<at::Half>());
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

// Runs `kernel(args, m0)` over x's rows in chunks of kGemvMaxRows and over N in parallel
// (ParallelRows, ranges aligned to `align` rows).
template <class Kernel>
at::Tensor Run(const at::Tensor& x_in, int64_t n, int64_t k, double row_bytes, int64_t align,
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
    ParallelRows(a, n, row_bytes, align, [&](const GemvArgs& part) { kernel(part, m0); });
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
  return Run(x, n, k, static_cast<double>(k), 1, bias,
             [&](const GemvArgs& a, int64_t) { kern.int8(a, w, s); });
}

CpuInt4Weights PackInt4ForCpu(const at::Tensor& q, const at::Tensor& scale,
                              const at::Tensor& zero, int64_t group) {
  const int64_t n = q.size(0), k = q.size(1);
  Check(Int4GroupSupported(group) && k % group == 0,
        "int4 needs a group of 32, 64, 128 or 256 dividing K = " + std::to_string(k));
  const int64_t tiles = (n + kInt4TileRows - 1) / kInt4TileRows, pad = tiles * kInt4TileRows - n;
  const int64_t steps = k / kInt4StepK, groups = k / group;
  // [tiles, 16 rows, steps, 2 halves, 4]: the first 4 values of a step go to the low nibbles,
  // the next 4 to the high nibbles of the same 4 bytes; then [tiles, steps, 16 rows, 4 bytes].
  const at::Tensor v = at::constant_pad_nd(q.to(at::kByte), {0, 0, 0, pad})
                           .reshape({tiles, kInt4TileRows, steps, 2, 4});
  const at::Tensor bytes = v.select(3, 0).bitwise_or(v.select(3, 1).bitwise_left_shift(4));
  CpuInt4Weights out;
  out.packed = bytes.permute({0, 2, 1, 3}).reshape({tiles, steps, 4 * kInt4TileRows}).contiguous();
  // {s, zero} stored as fp16: the quantizer makes them fp16 values, so nothing rounds here;
  // anything else would change the weights the kernels compute with, hence refused.
  const at::Tensor sz32 = at::stack(
      {scale.to(at::kFloat).reshape({n, groups}), zero.to(at::kFloat).reshape({n, groups})}, 2);
  const at::Tensor sz16 = sz32.to(at::kHalf);
  Check(at::equal(sz16.to(at::kFloat), sz32),
        "int4 scale and zero must be fp16 values (QuantizeInt4Grouped makes them so)");
  // [tiles, 16 rows, groups, 2] -> [tiles, groups, 2, 16 rows]; padding rows 0.
  out.scale_zero = at::constant_pad_nd(sz16, {0, 0, 0, 0, 0, pad})
                       .reshape({tiles, kInt4TileRows, groups, 2})
                       .permute({0, 2, 3, 1})
                       .contiguous();
  out.n = n;
  out.k = k;
  out.group = group;
  return out;
}

at::Tensor CpuInt4Gemv(const at::Tensor& x, const CpuInt4Weights& w, const at::Tensor& bias,
                       IsaLevel level) {
  const int64_t n = w.n, k = w.k, g = w.group;
  const GemvKernels& kern = GemvKernelsFor(level);
  const uint8_t* packed = w.packed.data_ptr<uint8_t>();
  const uint16_t* sz = ScaleZeroBits(w);
  // x prepared once for all rows (fixed-point limbs, group sums), shared by the threads.
  Int4ActivationBuffer buf;
  Int4Activations prepared;
  const at::Tensor xf = x.to(at::kFloat).contiguous();
  if (CpuGemvTakes(x) && x.size(1) == k)
    prepared = PrepareInt4Activations(xf.data_ptr<float>(), x.size(0), k, g, buf);
  return Run(xf, n, k, static_cast<double>(k) / 2, kInt4TileRows, bias,
             [&](const GemvArgs& a, int64_t m0) {
               kern.int4(a, packed, sz, Int4ActivationRows(prepared, k, m0));
             })
      .to(x.scalar_type());
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
      return Run(x, n, k, row_bytes, 1, bias, [&](const GemvArgs& a, int64_t) { kern.f32(a, p); });
    }
    case at::kBFloat16: {
      const auto* p = reinterpret_cast<const uint16_t*>(w.data_ptr());
      return Run(x, n, k, row_bytes, 1, bias, [&](const GemvArgs& a, int64_t) { kern.bf16(a, p); });
    }
    case at::kHalf: {
      const auto* p = reinterpret_cast<const uint16_t*>(w.data_ptr());
      return Run(x, n, k, row_bytes, 1, bias, [&](const GemvArgs& a, int64_t) { kern.f16(a, p); });
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
  const GemvKernels& kern = GemvKernelsFor(ChosenIsaLevel());
  thread_local Int4ActivationBuffer buf;  // per thread: team members each prepare x themselves
  const Int4Activations prepared = PrepareInt4Activations(x, m, w.k, w.group, buf);
  kern.int4(RawArgs(x, m, w.k, y, w.n, bias, n_begin, n_end), w.packed.data_ptr<uint8_t>(),
            ScaleZeroBits(w), prepared);
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
