// int8 weight-only GEMV for decode: one warp per output channel, 16 weights per lane per
// iteration (one 16-byte load), fp32 accumulation, scale applied once per output. No ATen
// headers here so that nvcc stays fast.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace orch::worker {
namespace {

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

constexpr int kWarpsPerBlock = 8;
constexpr int kMaxRows = 8;

template <typename T>
__global__ void Int8GemvKernel(const T* __restrict__ x, const int8_t* __restrict__ w,
                               const T* __restrict__ scale, T* __restrict__ y, int m, int n,
                               int k) {
  const int lane = threadIdx.x % 32;
  const int out = blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (out >= n) return;
  float acc[kMaxRows];
  for (int r = 0; r < kMaxRows; ++r) acc[r] = 0.f;
  const int8_t* row = w + static_cast<int64_t>(out) * k;
  for (int base = lane * 16; base < k; base += 32 * 16) {
    const int4 packed = *reinterpret_cast<const int4*>(row + base);
    const int8_t* q = reinterpret_cast<const int8_t*>(&packed);
    for (int r = 0; r < m; ++r) {
      const T* xr = x + static_cast<int64_t>(r) * k + base;
      float s = 0.f;
#pragma unroll
      for (int j = 0; j < 16; ++j) s += ToFloat(xr[j]) * static_cast<float>(q[j]);
      acc[r] += s;
    }
  }
  for (int r = 0; r < m; ++r) {
    float v = acc[r];
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (lane == 0) y[static_cast<int64_t>(r) * n + out] = FromFloat<T>(v * ToFloat(scale[out]));
  }
}

template <typename T>
void Launch(const void* x, const int8_t* w, const void* scale, void* y, int m, int n, int k,
            cudaStream_t s) {
  dim3 block(32 * kWarpsPerBlock);
  dim3 grid((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  Int8GemvKernel<T><<<grid, block, 0, s>>>(
      static_cast<const T*>(x), w, static_cast<const T*>(scale), static_cast<T*>(y), m, n, k);
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

}  // namespace orch::worker
