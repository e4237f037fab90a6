// Linear layers of the model, dense or weight-quantized (docs/worker.md, "Quantization").
// Each variant stores its weights once at quantization time and computes y = x W^T + b in
// the activation dtype; `WeightBytes` is what the layer keeps resident. Linear objects are
// immutable after construction and safe to call from one thread at a time.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace orch::worker {

enum class QuantMethod {
  kNone,
  kInt8WeightOnly,          // int8wo: int8 weights, per-output-channel scale, fused kernel
  kInt8WeightOnlyDequant,   // int8wo-dequant: same weights, dequantized to dtype every call
  kInt8WeightOnlyUnscaled,  // int8wo-unscaled: broken control, int8 values used without scale
  kInt8DynamicActivation,   // int8da: int8 weights and per-token dynamic int8 activations
  kInt4WeightOnly,          // int4wo-gN: asymmetric 4-bit weights, groups of N along K
};

struct QuantSpec {
  QuantMethod method = QuantMethod::kNone;
  int64_t group_size = 0;  // int4 only
  std::string name = "none";
};

// Known names: none, int8wo, int8wo-dequant, int8wo-unscaled, int8da, int4wo-g{32,64,128,256}.
std::optional<QuantSpec> ParseQuant(const std::string& name, std::string* error);

// Empty when `spec` can run on device/dtype for a layer with in_features `k` and
// out_features `n`; otherwise the precise reason (which kernel is missing, which shape).
std::string QuantUnsupportedReason(const QuantSpec& spec, at::Device device, at::ScalarType dtype,
                                   int64_t n, int64_t k);

class Linear {
 public:
  virtual ~Linear() = default;
  // x: [M, in_features] in the model dtype; returns [M, out_features] in the same dtype.
  virtual at::Tensor Forward(const at::Tensor& x) const = 0;
  virtual int64_t WeightBytes() const = 0;
  // The fused CPU decode step's form (worker/model/cpu_decode_step.cc): output columns
  // [n_begin, n_end) of y = x W^T + b on raw fp32 rows, x [m, in], y [m, out],
  // m = 1..kGemvMaxRows, with orch's CPU GEMV kernels, no ATen op and no threading (the
  // step's team members each compute their share of the outputs). HasCpuF32Form: whether this layer
  // has it (weights on the CPU in a layout of those kernels: dense fp32/bf16/fp16, int8wo, int4wo);
  // ForwardCpuF32 throws otherwise.
  virtual bool HasCpuF32Form() const { return false; }
  virtual void ForwardCpuF32(const float* x, int m, float* y, int64_t n_begin, int64_t n_end) const;
  // {weight, bias} of a dense layer (bias may be undefined); throws for quantized layers.
  virtual std::pair<at::Tensor, at::Tensor> DenseParameters() const;
};

// weight: [out, in] already on the device in the model dtype; bias may be undefined.
std::unique_ptr<Linear> MakeDenseLinear(at::Tensor weight, at::Tensor bias);
// Quantizes `weight` (consumed) per `spec`; check QuantUnsupportedReason first.
std::unique_ptr<Linear> MakeQuantizedLinear(const QuantSpec& spec, at::Tensor weight,
                                            at::Tensor bias);

// The quantizers, exposed so tests can build dequantized references.
struct Int8Weights {
  at::Tensor q;      // int8 [out, in]
  at::Tensor scale;  // [out], float32
};
// Symmetric per output channel: scale = max|w| / 127, q = round(w / scale).
Int8Weights QuantizeInt8PerChannel(const at::Tensor& weight);

struct Int4Weights {
  at::Tensor q;      // int32 [out, in], values 0..15
  at::Tensor scale;  // float32 [out, in / group], each an fp16 value (normal, >= 2^-14)
  at::Tensor zero;   // float32 [out, in / group], each an fp16 value: w ~= (q - 8) * scale + zero
};
// Asymmetric per group of `group` inputs, scale and zero rounded to fp16 (the CPU kernels
// store them so) before q is chosen against them: scale = (max - min) / 15 rounded up to
// fp16 (at least 2^-14, fp16's smallest normal), zero = min + 8 scale rounded to the
// nearest fp16, q = clamp(round((w - zero) / scale) + 8, 0, 15). Every weight is
// then within max(scale / 2, 2^-11 |zero|) of (q - 8) * scale + zero (scale / 2 whenever
// |zero| <= 1024 scale). Throws std::invalid_argument, naming the row and the inputs, for a
// group whose scale or zero does not fit fp16 (|value| > 65504) or holds a non-finite weight.
Int4Weights QuantizeInt4Grouped(const at::Tensor& weight, int64_t group);
at::Tensor DequantizeInt4(const Int4Weights& w, int64_t group);

}  // namespace orch::worker
