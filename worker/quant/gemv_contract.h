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
//    G in {32, 64, 128, 256} and K % G == 0 (hence K % 8 == 0);
//    the weight is w = (q - 8) s + zero with q in 0..15 and {s, zero} per (row, group), both
//      fp16 values (QuantizeInt4Grouped rounds them to fp16 before choosing q, so the stored
//      weights are exactly the quantizer's); the kernels use it as w = q s + z' with
//      z' = zero - 8 s formed in fp32 in registers (8 s exact, one rounding);
//    rows are stored in tiles of kInt4TileRows = 16 (N padded with zero rows to a multiple
//      of 16), so that one 512-bit vector holds 16 rows x 4 consecutive K values and an
//      integer dot product (AVX512-VNNI vpdpbusd) advances 16 outputs at once:
//    packed: uint8 [ceil(N / 16), K / 8, 64]: for tile t and step s (K values 8s .. 8s + 7),
//      byte 4 r + j (row r = 0..15 of the tile, j = 0..3) holds q[16 t + r, 8 s + j] in its
//      low nibble and q[16 t + r, 8 s + 4 + j] in its high nibble;
//    scale_zero: fp16 (IEEE binary16 bits, uint16) [ceil(N / 16), K / G, 2, 16]: per tile
//      and group, s of the 16 rows, then zero of the 16 rows (0 for padding rows), widened
//      to fp32 per group in registers (F16C vcvtph2ps; portable: an exact conversion);
//      64 bytes per tile and group: 20 bytes per 32 weights at G = 32 (16 of nibbles);
//    y[m, n] = sum_g (s_g * sum_{k in g} x[m,k] q[n,k] + z'_g * sum_{k in g} x[m,k]).
//    x stays fp32 in meaning (weight-only): the CPU kernels take it per group as an exact
//      24-bit fixed point X = round(x * 2^(22 - e)) relative to the group's largest |x| <
//      2^e, split into three signed 8-bit limbs (Int4Activations, int4_activations.h), so
//      sum q X is exact in int32 and each x is off by at most 2^-22 of its group's max
//      (fp32 rounds to 2^-24 of itself); then one fp32 product with s_g per group.
// Dense 16-bit weights (fp16 / bf16 models), CPU: w uint16 [N, K] holding IEEE fp16 or bf16
// bits; each weight is widened in registers (bf16: << 16; fp16: F16C), never in memory.
// Dense fp32 weights, CPU: w float [N, K].
#pragma once

#include <cstdint>

namespace orch::worker {

inline constexpr int kGemvMaxRows = 8;
inline constexpr int64_t kInt4TileRows = 16;
inline constexpr int64_t kInt4StepK = 8;  // K values per 64-byte step of a tile
inline constexpr int kCudaInt8KMultiple = 16;

inline constexpr bool Int4GroupSupported(int64_t group) {
  return group == 32 || group == 64 || group == 128 || group == 256;
}

}  // namespace orch::worker
