// Host side of the int8 weight-only GEMV: shape checks, output allocation, stream.
#include <ATen/cuda/CUDAContext.h>

#include <cstdint>

#include "worker/quant/gemv_contract.h"
#include "worker/quant/int8_gemv.h"

namespace orch::worker {

// Defined in int8_gemv_kernel.cu. dtype_code: 0 fp32, 1 fp16, 2 bf16.
void LaunchInt8Gemv(const void* x, const int8_t* w, const void* scale, void* y, int m, int n, int k,
                    int dtype_code, cudaStream_t stream);

void LaunchInt8DaGemv(const int8_t* xq, const float* x_scale, const int8_t* w,
                      const float* w_scale, void* y, int m, int n, int k, int dtype_code,
                      cudaStream_t stream);

bool Int8GemvAvailable(const at::Tensor& x) {
  return x.is_cuda() && x.dim() == 2 && x.size(0) <= kGemvMaxRows &&
         x.size(1) % kCudaInt8KMultiple == 0;
}

at::Tensor Int8GemvCuda(const at::Tensor& x_in, const at::Tensor& q, const at::Tensor& scale) {
  TORCH_CHECK(Int8GemvAvailable(x_in), "Int8GemvCuda: unsupported input shape");
  TORCH_CHECK(q.is_contiguous() && q.scalar_type() == at::kChar,
              "Int8GemvCuda: q must be contiguous int8");
  at::Tensor x = x_in.contiguous();
  // The kernel reads x and W in 16-byte vectors: a view of x at an unaligned offset is
  // copied; W comes from QuantizeInt8PerChannel (own allocation, K % 16 == 0 per row).
  if (reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 != 0) x = x.clone();
  TORCH_CHECK(reinterpret_cast<uintptr_t>(q.data_ptr()) % 16 == 0,
              "Int8GemvCuda: q must be 16-byte aligned");
  at::Tensor s = scale.to(x.scalar_type()).contiguous();
  const int64_t m = x.size(0), k = x.size(1), n = q.size(0);
  TORCH_CHECK(q.size(1) == k, "Int8GemvCuda: in_features mismatch");
  at::Tensor y = at::empty({m, n}, x.options());
  int code = x.scalar_type() == at::kFloat ? 0 : x.scalar_type() == at::kHalf ? 1 : 2;
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kHalf ||
                  x.scalar_type() == at::kBFloat16,
              "Int8GemvCuda: dtype must be fp32, fp16 or bf16");
  LaunchInt8Gemv(x.data_ptr(), q.data_ptr<int8_t>(), s.data_ptr(), y.data_ptr(),
                 static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), code,
                 at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

at::Tensor Int8DaGemvCuda(const at::Tensor& xq_in, const at::Tensor& x_scale, const at::Tensor& q,
                          const at::Tensor& w_scale, at::ScalarType out_dtype) {
  TORCH_CHECK(Int8GemvAvailable(xq_in) && xq_in.scalar_type() == at::kChar,
              "Int8DaGemvCuda: xq must be int8 [M <= 8, K % 16 == 0] on CUDA");
  TORCH_CHECK(q.is_contiguous() && q.scalar_type() == at::kChar &&
                  reinterpret_cast<uintptr_t>(q.data_ptr()) % 16 == 0,
              "Int8DaGemvCuda: q must be contiguous, 16-byte aligned int8");
  TORCH_CHECK(out_dtype == at::kFloat || out_dtype == at::kHalf || out_dtype == at::kBFloat16,
              "Int8DaGemvCuda: out dtype must be fp32, fp16 or bf16");
  at::Tensor xq = xq_in.contiguous();
  if (reinterpret_cast<uintptr_t>(xq.data_ptr()) % 16 != 0) xq = xq.clone();
  const int64_t m = xq.size(0), k = xq.size(1), n = q.size(0);
  TORCH_CHECK(q.size(1) == k, "Int8DaGemvCuda: in_features mismatch");
  at::Tensor xs = x_scale.to(at::kFloat).contiguous().view({m});
  at::Tensor ws = w_scale.to(at::kFloat).contiguous();
  TORCH_CHECK(ws.numel() == n, "Int8DaGemvCuda: w_scale must have N entries");
  at::Tensor y = at::empty({m, n}, xq.options().dtype(out_dtype));
  const int code = out_dtype == at::kFloat ? 0 : out_dtype == at::kHalf ? 1 : 2;
  LaunchInt8DaGemv(xq.data_ptr<int8_t>(), xs.data_ptr<float>(), q.data_ptr<int8_t>(),
                   ws.data_ptr<float>(), y.data_ptr(), static_cast<int>(m), static_cast<int>(n),
                   static_cast<int>(k), code, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

}  // namespace orch::worker
