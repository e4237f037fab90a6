// int8 weight-only GEMV for decode: y[M, N] = (x[M, K] W[N, K]^T) * scale[N], reading each int8
// weight once. M (1..8) is a template parameter, so the M fp32 accumulators stay in
// registers. Each output row is split along K over kWarpsPerRow warps (several warps per
// row: N = 2560 gives 1280 blocks of 8 warps, not 320), every lane handles 16-byte chunks
// of the row (16 int8 weights, one 16-byte load) and the matching 16 inputs of each of the
// M rows of x (16-byte loads too), with kUnroll weight chunks loaded before any is used so
// that several loads are in flight per thread. Partial sums: warp shuffle, then shared memory
// across the row's warps; the scale is applied once per output. No ATen headers here so
// that nvcc stays fast. Requires K % 16 == 0 and 16-byte aligned x and W rows
// (int8_gemv_cuda.cc checks). Contract shared with the CPU kernels: worker/quant/gemv_contract.h.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "worker/quant/gemv_contract.h"

namespace orch::worker {
namespace {

static_assert(kGemvMaxRows == 8, "the launch switches below cover M = 1..8");

__device__ __forceinline__ float ToFloat(float v) { return v; }
__device__ __forceinline__ float ToFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T FromFloat(float v);
template <>
__device__ __forceinline__ float FromFloat<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half FromFloat<__half>(float v) {
  return __float2half(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16(v);
}

constexpr int kThreads = 256;
constexpr int kWarpsPerRow = 4;
constexpr int kRowsPerBlock = kThreads / 32 / kWarpsPerRow;  // 2
constexpr int kLanesPerRow = 32 * kWarpsPerRow;              // 128
constexpr int kUnroll = 4;
constexpr int kChunk = kCudaInt8KMultiple;  // int8 weights per 16-byte load

// Weight number b (0..3) of a 32-bit word of four int8 weights.
__device__ __forceinline__ float Weight(uint32_t word, int b) {
  return static_cast<float>(static_cast<int8_t>(word >> (8 * b)));
}

// Sum over 16 consecutive inputs x[0..15] (16-byte aligned) times the 16 weights in w.
__device__ __forceinline__ float Dot16(const float* x, uint4 w) {
  const uint32_t ws[4] = {w.x, w.y, w.z, w.w};
  const float4* xv = reinterpret_cast<const float4*>(x);
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float4 a = __ldg(xv + i);
    s = fmaf(a.x, Weight(ws[i], 0), s);
    s = fmaf(a.y, Weight(ws[i], 1), s);
    s = fmaf(a.z, Weight(ws[i], 2), s);
    s = fmaf(a.w, Weight(ws[i], 3), s);
  }
  return s;
}

__device__ __forceinline__ float2 Pair(uint32_t v, const __half*) {
  __half2 h;
  static_assert(sizeof(h) == sizeof(v), "half2 is 32 bits");
  memcpy(&h, &v, sizeof(v));
  return __half22float2(h);
}
__device__ __forceinline__ float2 Pair(uint32_t v, const __nv_bfloat16*) {
  __nv_bfloat162 h;
  static_assert(sizeof(h) == sizeof(v), "bfloat162 is 32 bits");
  memcpy(&h, &v, sizeof(v));
  return __bfloat1622float2(h);
}

template <typename T>  // __half or __nv_bfloat16: 16 inputs are two 16-byte loads
__device__ __forceinline__ float Dot16(const T* x, uint4 w) {
  const uint32_t ws[4] = {w.x, w.y, w.z, w.w};
  const uint4* xv = reinterpret_cast<const uint4*>(x);
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const uint4 a = __ldg(xv + i);
    const uint32_t as[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = Pair(as[j], x);
      const int e = i * 8 + j * 2;  // input index of f.x
      s = fmaf(f.x, Weight(ws[e / 4], e % 4), s);
      s = fmaf(f.y, Weight(ws[e / 4], e % 4 + 1), s);
    }
  }
  return s;
}

template <typename T, int M>
__global__ void __launch_bounds__(kThreads)
    Int8GemvKernel(const T* __restrict__ x, const int8_t* __restrict__ w,
                   const T* __restrict__ scale, T* __restrict__ y, int n, int k) {
  __shared__ float partial[kRowsPerBlock][kWarpsPerRow][M];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row_in_block = warp / kWarpsPerRow, warp_in_row = warp % kWarpsPerRow;
  const int out = blockIdx.x * kRowsPerBlock + row_in_block;
  const int lane_in_row = warp_in_row * 32 + lane;
  float acc[M];
#pragma unroll
  for (int r = 0; r < M; ++r) acc[r] = 0.f;
  if (out < n) {
    const int8_t* row = w + static_cast<int64_t>(out) * k;
    const int chunks = k / kChunk;
    for (int c0 = lane_in_row; c0 < chunks; c0 += kLanesPerRow * kUnroll) {
      // The weights are the stream: issue this round's kUnroll 16-byte weight loads before
      // using any. The inputs (a few KB, shared by all rows) come from L1/L2.
      uint4 wv[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int c = c0 + u * kLanesPerRow;
        wv[u] = c < chunks ? __ldg(reinterpret_cast<const uint4*>(row) + c) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int c = c0 + u * kLanesPerRow;
        if (c < chunks) {
#pragma unroll
          for (int r = 0; r < M; ++r)
            acc[r] += Dot16(x + static_cast<int64_t>(r) * k + c * kChunk, wv[u]);
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < M; ++r) {
    float v = acc[r];
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (lane == 0) partial[row_in_block][warp_in_row][r] = v;
  }
  __syncthreads();
  if (out < n && warp_in_row == 0 && lane < M) {
    float v = 0.f;
#pragma unroll
    for (int i = 0; i < kWarpsPerRow; ++i) v += partial[row_in_block][i][lane];
    y[static_cast<int64_t>(lane) * n + out] = FromFloat<T>(v * ToFloat(scale[out]));
  }
}

template <typename T, int M>
void LaunchM(const void* x, const int8_t* w, const void* scale, void* y, int n, int k,
             cudaStream_t s) {
  const dim3 grid((n + kRowsPerBlock - 1) / kRowsPerBlock);
  Int8GemvKernel<T, M><<<grid, kThreads, 0, s>>>(static_cast<const T*>(x), w,
                                                  static_cast<const T*>(scale),
                                                  static_cast<T*>(y), n, k);
}

template <typename T>
void Launch(const void* x, const int8_t* w, const void* scale, void* y, int m, int n, int k,
            cudaStream_t s) {
  switch (m) {
    case 1: LaunchM<T, 1>(x, w, scale, y, n, k, s); break;
    case 2: LaunchM<T, 2>(x, w, scale, y, n, k, s); break;
    case 3: LaunchM<T, 3>(x, w, scale, y, n, k, s); break;
    case 4: LaunchM<T, 4>(x, w, scale, y, n, k, s); break;
    case 5: LaunchM<T, 5>(x, w, scale, y, n, k, s); break;
    case 6: LaunchM<T, 6>(x, w, scale, y, n, k, s); break;
    case 7: LaunchM<T, 7>(x, w, scale, y, n, k, s); break;
    default: LaunchM<T, 8>(x, w, scale, y, n, k, s); break;
  }
}

// int8da at decode sizes: y[M, N] = (xq[M, K] . W[N, K]) * x_scale[M] * w_scale[N] with int8
// activations quantized per token. Same layout as Int8GemvKernel (K split over 4 warps per
// row, kUnroll 16-byte weight loads in flight), 16-byte int8 input loads, int32 dot products
// with __dp4a (|sum| <= K * 127^2 < 2^31 for K < 133,000), the scales applied in fp32 once.
template <typename T, int M>
__global__ void __launch_bounds__(kThreads)
    Int8DaGemvKernel(const int8_t* __restrict__ xq, const float* __restrict__ x_scale,
                     const int8_t* __restrict__ w, const float* __restrict__ w_scale,
                     T* __restrict__ y, int n, int k) {
  __shared__ int partial[kRowsPerBlock][kWarpsPerRow][M];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row_in_block = warp / kWarpsPerRow, warp_in_row = warp % kWarpsPerRow;
  const int out = blockIdx.x * kRowsPerBlock + row_in_block;
  const int lane_in_row = warp_in_row * 32 + lane;
  int acc[M];
#pragma unroll
  for (int r = 0; r < M; ++r) acc[r] = 0;
  if (out < n) {
    const int8_t* row = w + static_cast<int64_t>(out) * k;
    const int chunks = k / kChunk;
    for (int c0 = lane_in_row; c0 < chunks; c0 += kLanesPerRow * kUnroll) {
      uint4 wv[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int c = c0 + u * kLanesPerRow;
        wv[u] = c < chunks ? __ldg(reinterpret_cast<const uint4*>(row) + c) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const int c = c0 + u * kLanesPerRow;
        if (c < chunks) {
#pragma unroll
          for (int r = 0; r < M; ++r) {
            const uint4 xv =
                __ldg(reinterpret_cast<const uint4*>(xq + static_cast<int64_t>(r) * k) + c);
            int s = acc[r];
            s = __dp4a(static_cast<int>(xv.x), static_cast<int>(wv[u].x), s);
            s = __dp4a(static_cast<int>(xv.y), static_cast<int>(wv[u].y), s);
            s = __dp4a(static_cast<int>(xv.z), static_cast<int>(wv[u].z), s);
            s = __dp4a(static_cast<int>(xv.w), static_cast<int>(wv[u].w), s);
            acc[r] = s;
          }
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < M; ++r) {
    int v = acc[r];
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (lane == 0) partial[row_in_block][warp_in_row][r] = v;
  }
  __syncthreads();
  if (out < n && warp_in_row == 0 && lane < M) {
    int v = 0;
#pragma unroll
    for (int i = 0; i < kWarpsPerRow; ++i) v += partial[row_in_block][i][lane];
    y[static_cast<int64_t>(lane) * n + out] =
        FromFloat<T>(static_cast<float>(v) * x_scale[lane] * w_scale[out]);
  }
}

template <typename T, int M>
void LaunchDaM(const int8_t* xq, const float* xs, const int8_t* w, const float* ws, void* y,
               int n, int k, cudaStream_t s) {
  const dim3 grid((n + kRowsPerBlock - 1) / kRowsPerBlock);
  Int8DaGemvKernel<T, M><<<grid, kThreads, 0, s>>>(xq, xs, w, ws, static_cast<T*>(y), n, k);
}

template <typename T>
void LaunchDa(const int8_t* xq, const float* xs, const int8_t* w, const float* ws, void* y, int m,
              int n, int k, cudaStream_t s) {
  switch (m) {
    case 1: LaunchDaM<T, 1>(xq, xs, w, ws, y, n, k, s); break;
    case 2: LaunchDaM<T, 2>(xq, xs, w, ws, y, n, k, s); break;
    case 3: LaunchDaM<T, 3>(xq, xs, w, ws, y, n, k, s); break;
    case 4: LaunchDaM<T, 4>(xq, xs, w, ws, y, n, k, s); break;
    case 5: LaunchDaM<T, 5>(xq, xs, w, ws, y, n, k, s); break;
    case 6: LaunchDaM<T, 6>(xq, xs, w, ws, y, n, k, s); break;
    case 7: LaunchDaM<T, 7>(xq, xs, w, ws, y, n, k, s); break;
    default: LaunchDaM<T, 8>(xq, xs, w, ws, y, n, k, s); break;
  }
}

}  // namespace

void LaunchInt8Gemv(const void* x, const int8_t* w, const void* scale, void* y, int m, int n, int k,
                    int dtype_code, cudaStream_t stream) {
  switch (dtype_code) {
    case 0:
      Launch<float>(x, w, scale, y, m, n, k, stream);
      break;
    case 1:
      Launch<__half>(x, w, scale, y, m, n, k, stream);
      break;
    default:
      Launch<__nv_bfloat16>(x, w, scale, y, m, n, k, stream);
      break;
  }
}

void LaunchInt8DaGemv(const int8_t* xq, const float* x_scale, const int8_t* w,
                      const float* w_scale, void* y, int m, int n, int k, int dtype_code,
                      cudaStream_t stream) {
  switch (dtype_code) {
    case 0:
      LaunchDa<float>(xq, x_scale, w, w_scale, y, m, n, k, stream);
      break;
    case 1:
      LaunchDa<__half>(xq, x_scale, w, w_scale, y, m, n, k, stream);
      break;
    default:
      LaunchDa<__nv_bfloat16>(xq, x_scale, w, w_scale, y, m, n, k, stream);
      break;
  }
}

}  // namespace orch::worker
