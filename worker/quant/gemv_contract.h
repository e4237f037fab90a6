// The contract of orch-worker's own decode GEMV kernels (y[M, N] = x[M, K] W[N, K]^T), shared
// by the CPU kernels (worker/cpu_kernels/) and the CUDA kernels (worker/backend/cuda/): which
// rows M they take, how the weights are laid out and what the scales mean. Plain C++ (no
// ATen, no CUDA headers) so that nvcc and every CPU translation unit can include it.
//
// Common to all kernels:
//  - M (rows of x, tokens of a decode step) is 1..kGemvMaxRows; the kernels keep M fp32
//    accumulators per output in registers, so M is a compile-time parameter. Larger inputs
//    (a prefill) are the caller's business (CPU: chunks of kGemvMaxRows; CUDA: ATen).
//  - x and y are row-major, x is read in fp32 (CPU: converted once per call from the model
//    dtype; CUDA: read in its dtype and widened in registers); every product and sum is fp32.
//  - Each weight byte is read once per call: the weight row is the inner loop's stream and
//    the M rows of x, K values each, are reused from cache.
//
// int8 weight-only (quant `int8wo`), CPU and CUDA:
//    q: int8 [N, K] row-major (K contiguous), symmetric per output channel;
//    scale: [N] (CPU fp32; CUDA in the activation dtype); y[m, n] = scale[n] * sum_k x[m,k] q[n,k].
//    CPU: any K >= 1. CUDA: K % kCudaInt8KMultiple == 0, x and q 16-byte aligned.
//
// int4 weight-only, groups of G along K (quant `int4wo-gG`), CPU only (CUDA uses ATen's
// tinygemm layout, see quantized_linear.cc):
//    packed: uint8 [N, K / 2]; K is split into blocks of kInt4BlockK = 32 values stored in 16
//      bytes: byte j of a block holds value j in its low nibble and value j + 16 in its high
//      nibble (so one 16-byte load and two nibble masks give 32 values in order);
//    G in {32, 64, 128, 256} and K % G == 0 (hence K % 32 == 0);
//    scale_zero: fp32 [N, K / G, 2] = {s, z'} per group, where the weight is
//      w = q * s + z' with q in 0..15 (z' = zero - 8 s for w = (q - 8) s + zero, the
//      quantizer's form, QuantizeInt4Grouped);
//    y[m, n] = sum_g (s_g * sum_{k in g} x[m,k] q[n,k] + z'_g * sum_{k in g} x[m,k]).
//
// Dense 16-bit weights (fp16 / bf16 models), CPU: w uint16 [N, K] holding IEEE fp16 or bf16
// bits; each weight is widened in registers (bf16: << 16; fp16: F16C), never in memory.
// Dense fp32 weights, CPU: w float [N, K].
#pragma once

#include <cstdint>

namespace orch::worker {

inline constexpr int kGemvMaxRows = 8;
inline constexpr int64_t kInt4BlockK = 32;
inline constexpr int kCudaInt8KMultiple = 16;

inline constexpr bool Int4GroupSupported(int64_t group) {
  return group == 32 || group == 64 || group == 128 || group == 256;
}

}  // namespace orch::worker
