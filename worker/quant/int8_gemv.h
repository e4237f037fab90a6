// Fused int8 weight-only matrix-vector product for decode (few rows): y = (x W^T) * scale,
// reading each int8 weight once. A hand-written CUDA kernel (int8_gemv_kernel.cu), since
// ATen has no CUDA int8 weight-only kernel; the CPU-only build has none.
#pragma once

#include <ATen/ATen.h>

namespace orch::worker {

// True when Int8GemvCuda can take x [M, K] with this build (CUDA build, M <= 8, K % 16 == 0).
bool Int8GemvAvailable(const at::Tensor& x);
// x: [M, K] fp32/fp16/bf16 on CUDA; q: int8 [N, K]; scale: [N] in x's dtype. Returns [M, N].
at::Tensor Int8GemvCuda(const at::Tensor& x, const at::Tensor& q, const at::Tensor& scale);

// int8da at decode sizes (same conditions as Int8GemvAvailable, on xq): xq int8 [M, K] and
// x_scale float32 [M] (per-token quantized activations), q int8 [N, K], w_scale float32 [N].
// Returns (xq . q^T) * x_scale * w_scale as [M, N] in `out_dtype` (fp32, fp16 or bf16).
at::Tensor Int8DaGemvCuda(const at::Tensor& xq, const at::Tensor& x_scale, const at::Tensor& q,
                          const at::Tensor& w_scale, at::ScalarType out_dtype);

}  // namespace orch::worker
