// ATen-facing entry points of orch-worker's CPU GEMV kernels (worker/cpu_kernels/; contract
// in gemv_contract.h): y = x W^T (+ bias) for CPU tensors x [M, K] in fp32, bf16 or fp16.
// x is converted to fp32 once per call (M x K values), the output rows are split across
// ATen's intra-op threads, and y comes back in x's dtype. Inputs of more than kGemvMaxRows
// rows (a prefill) run in chunks of kGemvMaxRows rows, each reading the weights once.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "worker/cpu_kernels/gemv_kernels.h"

namespace orch::worker {

// True for x on the CPU, 2-D, fp32/bf16/fp16.
bool CpuGemvTakes(const at::Tensor& x);

// q: int8 [N, K] contiguous; scale: fp32 [N]; bias: fp32 [N] or undefined.
at::Tensor CpuInt8Gemv(const at::Tensor& x, const at::Tensor& q, const at::Tensor& scale,
                       const at::Tensor& bias, IsaLevel level = ChosenIsaLevel());

// int4 weights in the CPU kernels' layout (gemv_contract.h).
struct CpuInt4Weights {
  at::Tensor packed;      // uint8 [ceil(N / 16), K / 8, 64]: tiles of 16 rows
  at::Tensor scale_zero;  // fp16 [ceil(N / 16), K / group, 2, 16]: {s, zero}, w = (q - 8) s + zero
  int64_t n = 0, k = 0;   // the weight's shape (N without the tiles' padding rows)
  int64_t group = 0;
};
// From the quantizer's form (q int 0..15 [N, K], scale, zero fp32 [N, K / group] holding
// fp16 values: w = (q - 8) * scale + zero). Needs K % group == 0, a supported group, and
// scale and zero exactly representable in fp16 (QuantizeInt4Grouped's are); throws
// std::invalid_argument otherwise.
CpuInt4Weights PackInt4ForCpu(const at::Tensor& q, const at::Tensor& scale,
                              const at::Tensor& zero, int64_t group);
at::Tensor CpuInt4Gemv(const at::Tensor& x, const CpuInt4Weights& w, const at::Tensor& bias,
                       IsaLevel level = ChosenIsaLevel());

// w: [N, K] contiguous in x's dtype (fp32, bf16 or fp16), read in place.
at::Tensor CpuDenseGemv(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias,
                        IsaLevel level = ChosenIsaLevel());

// The same kernels on raw fp32 rows, for the fused CPU decode step (no ATen op, no
// allocation, no threading): output rows [n_begin, n_end) of y = x W^T (+ bias), x [m, K] and
// y [m, N] row-major fp32 (only those columns of y are written), m = 1..kGemvMaxRows, the
// weights as above (dense: fp32, bf16 or fp16 `w`), bias fp32 [N] or null. The caller splits
// N across its threads (the decode step's ThreadTeam); each output row's value does not
// depend on the split.
void CpuInt8GemvRaw(const float* x, int m, float* y, const at::Tensor& q, const at::Tensor& scale,
                    const float* bias, int64_t n_begin, int64_t n_end);
void CpuInt4GemvRaw(const float* x, int m, float* y, const CpuInt4Weights& w, const float* bias,
                    int64_t n_begin, int64_t n_end);
void CpuDenseGemvRaw(const float* x, int m, float* y, const at::Tensor& w, const float* bias,
                     int64_t n_begin, int64_t n_end);

}  // namespace orch::worker
