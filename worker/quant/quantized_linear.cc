#include "worker/quant/quantized_linear.h"

#include <stdexcept>
#include <string>

#include "worker/backend/device.h"
#include "worker/quant/cpu_gemv.h"
#include "worker/quant/int8_gemv.h"

namespace orch::worker {
namespace {

int64_t Bytes(const at::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

at::Tensor AddBias(at::Tensor y, const at::Tensor& bias) {
  return bias.defined() ? y.add_(bias) : y;
}

// The bias as the CPU kernels take it (fp32; the same tensor for an fp32 model).
at::Tensor CpuBias(const at::Tensor& b) {
  return b.defined() && b.is_cpu() ? b.to(at::kFloat).contiguous() : at::Tensor();
}
// Bytes of the fp32 bias copy when it is not the bias itself (16-bit models).
int64_t ExtraBytes(const at::Tensor& copy, const at::Tensor& b) {
  return copy.defined() && !copy.is_same(b) ? Bytes(copy) : 0;
}

// Dense: on CPU at decode sizes (M <= kGemvMaxRows) our GEMV kernel reading the weights in
// place in the model dtype (fp32, or bf16/fp16 widened in registers); ATen's linear otherwise.
class DenseLinear : public Linear {
 public:
  DenseLinear(at::Tensor w, at::Tensor b)
      : w_(std::move(w)), b_(std::move(b)), b32_(CpuBias(b_)) {}
  at::Tensor Forward(const at::Tensor& x) const override {
    if (w_.is_cpu() && CpuGemvTakes(x) && x.size(0) <= kGemvMaxRows &&
        x.scalar_type() == w_.scalar_type() && w_.is_contiguous())
      return CpuDenseGemv(x, w_, b32_);
    return b_.defined() ? at::linear(x, w_, b_) : at::linear(x, w_);
  }
  bool HasCpuF32Form() const override {
    const at::ScalarType t = w_.scalar_type();
    return w_.is_cpu() && w_.is_contiguous() && w_.dim() == 2 &&
           (t == at::kFloat || t == at::kBFloat16 || t == at::kHalf);
  }
  void ForwardCpuF32(const float* x, int m, float* y, int64_t n_begin,
                     int64_t n_end) const override {
    CpuDenseGemvRaw(x, m, y, w_, b32_.defined() ? b32_.data_ptr<float>() : nullptr, n_begin, n_end);
  }
  int64_t WeightBytes() const override { return Bytes(w_) + Bytes(b_) + ExtraBytes(b32_, b_); }
  std::pair<at::Tensor, at::Tensor> DenseParameters() const override { return {w_, b_}; }

 private:
  at::Tensor w_, b_, b32_;
};

// int8wo: on CPU our GEMV kernel (fp32 scale, any M in chunks of kGemvMaxRows); on CUDA our
// own GEMV kernel for decode-sized inputs, the dequantizing matmul for larger M.
class Int8WeightOnlyLinear : public Linear {
 public:
  Int8WeightOnlyLinear(Int8Weights w, at::Tensor b, at::ScalarType dtype)
      : q_(std::move(w.q)),
        scale_(w.scale.is_cpu() ? w.scale.to(at::kFloat).contiguous() : w.scale.to(dtype)),
        b_(std::move(b)),
        b32_(CpuBias(b_)) {}
  at::Tensor Forward(const at::Tensor& x) const override {
    if (x.is_cpu()) return CpuInt8Gemv(x, q_, scale_, b32_);
    if (Int8GemvAvailable(x)) return AddBias(Int8GemvCuda(x, q_, scale_), b_);
    return AddBias(at::linear(x, q_.to(x.scalar_type()) * scale_.unsqueeze(1)), b_);
  }
  bool HasCpuF32Form() const override { return q_.is_cpu(); }
  void ForwardCpuF32(const float* x, int m, float* y, int64_t n_begin,
                     int64_t n_end) const override {
    CpuInt8GemvRaw(x, m, y, q_, scale_, b32_.defined() ? b32_.data_ptr<float>() : nullptr, n_begin,
                   n_end);
  }
  int64_t WeightBytes() const override {
    return Bytes(q_) + Bytes(scale_) + Bytes(b_) + ExtraBytes(b32_, b_);
  }

 private:
  at::Tensor q_, scale_, b_, b32_;
};

// int8wo-dequant: the naive eager form. Every call materializes the dequantized weight in the
// model dtype, so it saves resident memory but reads more bytes per token than dense.
class Int8DequantLinear : public Linear {
 public:
  Int8DequantLinear(Int8Weights w, at::Tensor b, at::ScalarType dtype, bool scaled)
      : q_(std::move(w.q)), scale_(w.scale.to(dtype)), b_(std::move(b)), scaled_(scaled) {}
  at::Tensor Forward(const at::Tensor& x) const override {
    at::Tensor w = q_.to(x.scalar_type());
    if (scaled_) w.mul_(scale_.unsqueeze(1));
    return b_.defined() ? at::linear(x, w, b_) : at::linear(x, w);
  }
  int64_t WeightBytes() const override {
    return Bytes(q_) + (scaled_ ? Bytes(scale_) : 0) + Bytes(b_);
  }

 private:
  at::Tensor q_, scale_, b_;
  bool scaled_;
};

// int8da: per-token symmetric int8 activations, int8 x int8 -> int32, then both scales in
// fp32. CPU: at::_int_mm. CUDA: the int8da GEMV kernel at decode sizes (M <= 8, K % 16 == 0),
// else at::_int_mm, whose cuBLASLt GEMM needs more than 16 rows (padded to 32).
class Int8DynamicActivationLinear : public Linear {
 public:
  Int8DynamicActivationLinear(Int8Weights w, at::Tensor b)
      : q_t_(w.q.t()), scale_(std::move(w.scale)), b_(std::move(b)) {}
  at::Tensor Forward(const at::Tensor& x) const override {
    at::Tensor xf = x.to(at::kFloat);
    at::Tensor xs = xf.abs().amax(1, /*keepdim=*/true).clamp_min(1e-8).div_(127.f);
    at::Tensor xq = at::round(xf / xs).clamp_(-127, 127).to(at::kChar);
    const int64_t m = xq.size(0);
    if (Int8GemvAvailable(xq))
      return AddBias(Int8DaGemvCuda(xq, xs, q_t_.t(), scale_, x.scalar_type()), b_);
    if (x.is_cuda() && m <= 16) xq = at::constant_pad_nd(xq, {0, 0, 0, 32 - m});
    at::Tensor acc = at::_int_mm(xq, q_t_).narrow(0, 0, m);
    at::Tensor y = acc.to(at::kFloat).mul_(xs).mul_(scale_.unsqueeze(0)).to(x.scalar_type());
    return AddBias(y, b_);
  }
  int64_t WeightBytes() const override { return Bytes(q_t_) + Bytes(scale_) + Bytes(b_); }

 private:
  at::Tensor q_t_, scale_, b_;
};

// int4wo-gN: on CPU our GEMV kernel (gemv_contract.h layout, fp32 activations and sums, any
// dtype); on CUDA ATen's tinygemm _weight_int4pack_mm (bf16 only). Both compute
// (q - 8) * scale + zero per group.
class Int4WeightOnlyLinear : public Linear {
 public:
  Int4WeightOnlyLinear(const at::Tensor& w, at::Tensor b, int64_t group)
      : b_(std::move(b)), b32_(CpuBias(b_)), group_(group) {
    Int4Weights q = QuantizeInt4Grouped(w, group);
    if (w.is_cuda()) {
      sz_ = at::stack({q.scale.t(), q.zero.t()}, 2).to(w.scalar_type()).contiguous();  // [K/G, N, 2]
      // The CUDA kernel takes two 4-bit values per byte, even column in the high nibble.
      at::Tensor bytes =
          (q.q.slice(1, 0, q.q.size(1), 2).bitwise_left_shift(4) | q.q.slice(1, 1, q.q.size(1), 2))
              .to(at::kByte);
      packed_ = at::_convert_weight_to_int4pack(bytes.contiguous(), kInnerKTiles);
    } else {
      cpu_ = PackInt4ForCpu(q.q, q.scale, q.zero, group);
    }
  }
  at::Tensor Forward(const at::Tensor& x) const override {
    if (x.is_cpu()) return CpuInt4Gemv(x, cpu_, b32_);
    return AddBias(at::_weight_int4pack_mm(x, packed_, group_, sz_), b_);
  }
  bool HasCpuF32Form() const override { return cpu_.packed.defined(); }
  void ForwardCpuF32(const float* x, int m, float* y, int64_t n_begin,
                     int64_t n_end) const override {
    CpuInt4GemvRaw(x, m, y, cpu_, b32_.defined() ? b32_.data_ptr<float>() : nullptr, n_begin,
                   n_end);
  }
  int64_t WeightBytes() const override {
    return Bytes(packed_) + Bytes(sz_) + Bytes(cpu_.packed) + Bytes(cpu_.scale_zero) + Bytes(b_) +
           ExtraBytes(b32_, b_);
  }

 private:
  static constexpr int64_t kInnerKTiles = 8;
  at::Tensor packed_, sz_, b_, b32_;
  CpuInt4Weights cpu_;
  int64_t group_;
};

}  // namespace

void Linear::ForwardCpuF32(const float*, int, float*, int64_t, int64_t) const {
  throw std::logic_error("ForwardCpuF32: this layer has no raw CPU fp32 form");
}

std::pair<at::Tensor, at::Tensor> Linear::DenseParameters() const {
  throw std::logic_error("DenseParameters: layer is already quantized");
}

std::optional<QuantSpec> ParseQuant(const std::string& name, std::string* error) {
  QuantSpec s;
  s.name = name;
  if (name == "none")
    s.method = QuantMethod::kNone;
  else if (name == "int8wo")
    s.method = QuantMethod::kInt8WeightOnly;
  else if (name == "int8wo-dequant")
    s.method = QuantMethod::kInt8WeightOnlyDequant;
  else if (name == "int8wo-unscaled")
    s.method = QuantMethod::kInt8WeightOnlyUnscaled;
  else if (name == "int8da")
    s.method = QuantMethod::kInt8DynamicActivation;
  else if (name == "int4wo-g32" || name == "int4wo-g64" || name == "int4wo-g128" ||
           name == "int4wo-g256") {
    s.method = QuantMethod::kInt4WeightOnly;
    s.group_size = std::stoll(name.substr(8));
  } else {
    *error =
        "unknown quant '" + name +
        "' (known: none, int8wo, int8wo-dequant, int8wo-unscaled, int8da, int4wo-g32, int4wo-g64, "
        "int4wo-g128, int4wo-g256)";
    return std::nullopt;
  }
  return s;
}

std::string QuantUnsupportedReason(const QuantSpec& spec, at::Device device, at::ScalarType dtype,
                                   int64_t n, int64_t k) {
  const std::string shape = "[" + std::to_string(n) + " x " + std::to_string(k) + "]";
  switch (spec.method) {
    case QuantMethod::kNone:
    case QuantMethod::kInt8WeightOnlyDequant:
    case QuantMethod::kInt8WeightOnlyUnscaled:
      return "";
    case QuantMethod::kInt8WeightOnly:
      if (device.is_cuda() && !BuiltWithCuda())
        return "int8wo on CUDA needs the worker's int8 GEMV kernel; this build has no CUDA code";
      return "";
    case QuantMethod::kInt8DynamicActivation:
      if (device.is_cuda() && (k % 8 != 0 || n % 8 != 0))
        return "int8da on CUDA needs at::_int_mm (cuBLASLt int8 GEMM) with in/out features "
               "multiples of 8; linear " +
               shape + " is not";
      return "";
    case QuantMethod::kInt4WeightOnly: {
      const int64_t g = spec.group_size;
      if (k % g != 0)
        return spec.name + ": in_features " + std::to_string(k) + " of linear " + shape +
               " is not a multiple of the group size " + std::to_string(g);
      if (device.is_cuda()) {
        if (dtype != at::kBFloat16)
          return spec.name +
                 " on CUDA needs dtype bf16 (ATen's _weight_int4pack_mm kernel is bf16-only); "
                 "dtype is " +
                 std::string(c10::toString(dtype));
        if (k % (8 * 16) != 0 || n % 8 != 0)
          return spec.name +
                 " on CUDA needs _weight_int4pack_mm shapes (in_features % 128 == 0, out_features "
                 "% 8 == "
                 "0); linear " +
                 shape + " is not";
      }
      return "";
    }
  }
  return "unknown quant";
}

std::unique_ptr<Linear> MakeDenseLinear(at::Tensor weight, at::Tensor bias) {
  return std::make_unique<DenseLinear>(std::move(weight), std::move(bias));
}

std::unique_ptr<Linear> MakeQuantizedLinear(const QuantSpec& spec, at::Tensor weight,
                                            at::Tensor bias) {
  const at::ScalarType dtype = weight.scalar_type();
  switch (spec.method) {
    case QuantMethod::kNone:
      return MakeDenseLinear(std::move(weight), std::move(bias));
    case QuantMethod::kInt8WeightOnly:
      return std::make_unique<Int8WeightOnlyLinear>(QuantizeInt8PerChannel(weight), std::move(bias),
                                                    dtype);
    case QuantMethod::kInt8WeightOnlyDequant:
      return std::make_unique<Int8DequantLinear>(QuantizeInt8PerChannel(weight), std::move(bias),
                                                 dtype, true);
    case QuantMethod::kInt8WeightOnlyUnscaled:
      return std::make_unique<Int8DequantLinear>(QuantizeInt8PerChannel(weight), std::move(bias),
                                                 dtype, false);
    case QuantMethod::kInt8DynamicActivation:
      return std::make_unique<Int8DynamicActivationLinear>(QuantizeInt8PerChannel(weight),
                                                           std::move(bias));
    case QuantMethod::kInt4WeightOnly:
      return std::make_unique<Int4WeightOnlyLinear>(weight, std::move(bias), spec.group_size);
  }
  return nullptr;
}

Int8Weights QuantizeInt8PerChannel(const at::Tensor& weight) {
  at::Tensor w = weight.to(at::kFloat);
  at::Tensor scale = w.abs().amax(1).clamp_min(1e-12).div_(127.f);
  at::Tensor q = at::round(w / scale.unsqueeze(1)).clamp_(-128, 127).to(at::kChar).contiguous();
  return {q, scale};
}

namespace {

// The smallest normal fp16 (2^-14): the floor of an int4 group's scale, so the scale keeps
// fp16's full 11-bit precision (no subnormal scale) and never rounds to 0.
constexpr float kInt4MinScale = 6.103515625e-05f;

// Each value of fp32 `v` (finite, > 0) rounded up to the nearest fp16 value, as fp32.
at::Tensor RoundUpToHalf(const at::Tensor& v) {
  const at::Tensor h = v.to(at::kHalf);
  // Positive fp16 bit patterns are ordered like their values: + 1 is the next fp16 up
  // (65504 + 1 ulp gives inf, reported by the caller).
  const at::Tensor up = (h.view(at::kShort) + 1).view(at::kHalf);
  return at::where(h.to(at::kFloat) < v, up, h).to(at::kFloat);
}

}  // namespace

Int4Weights QuantizeInt4Grouped(const at::Tensor& weight, int64_t group) {
  const int64_t n = weight.size(0), k = weight.size(1), groups = k / group;
  at::Tensor w = weight.to(at::kFloat).reshape({n, groups, group});
  at::Tensor lo = std::get<0>(w.min(2)), hi = std::get<0>(w.max(2));
  // fp16 scale (rounded up, so 15 scale still spans [lo, hi]) and zero (nearest), both
  // kept as fp32 tensors holding fp16 values: the CPU kernels store them as fp16 and compute
  // with exactly these weights; q is chosen against the rounded values.
  at::Tensor scale = RoundUpToHalf((hi - lo).div_(15.f).clamp_min_(kInt4MinScale));
  at::Tensor zero = (lo + scale * 8.f).to(at::kHalf).to(at::kFloat);
  const at::Tensor bad = at::logical_not(at::isfinite(scale).logical_and_(at::isfinite(zero)));
  if (bad.any().item<bool>()) {
    const int64_t i = bad.reshape({-1}).nonzero()[0].item<int64_t>(), r = i / groups,
                  g = i % groups;
    throw std::invalid_argument(
        "int4 quantization: output row " + std::to_string(r) + ", inputs " +
        std::to_string(g * group) + ".." + std::to_string((g + 1) * group - 1) + " span [" +
        std::to_string(lo.view({-1})[i].item<float>()) + ", " +
        std::to_string(hi.view({-1})[i].item<float>()) +
        "]: its scale (span / 15) or zero does not fit fp16 (|value| <= 65504), in which the "
        "int4 weights store them");
  }
  at::Tensor q = (at::round((w - zero.unsqueeze(2)) / scale.unsqueeze(2)) + 8.f)
                     .clamp_(0, 15)
                     .to(at::kInt)
                     .reshape({n, k});
  return {q, scale, zero};
}

at::Tensor DequantizeInt4(const Int4Weights& w, int64_t group) {
  const int64_t n = w.q.size(0), k = w.q.size(1);
  at::Tensor q = w.q.to(at::kFloat).reshape({n, k / group, group});
  return ((q - 8.f) * w.scale.unsqueeze(2) + w.zero.unsqueeze(2)).reshape({n, k});
}

}  // namespace orch::worker
