#include "worker/model/gpt_neox.h"

#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

namespace orch::worker {
namespace {

at::Tensor Take(WeightSource& w, const std::string& name, at::Device device, at::ScalarType dtype,
                std::vector<int64_t> shape) {
  if (!w.Has(name)) throw std::runtime_error("checkpoint has no tensor " + name);
  at::Tensor t = w.Load(name, device, dtype);
  if (t.sizes() != at::IntArrayRef(shape))
    throw std::runtime_error("tensor " + name + " has shape " + c10::str(t.sizes()) +
                             ", expected " + c10::str(at::IntArrayRef(shape)));
  return t;
}

bool InScope(const std::string& scope, bool is_attention) {
  return scope == "all" || (scope == "attention" && is_attention) ||
         (scope == "mlp" && !is_attention);
}

}  // namespace

std::pair<at::Tensor, at::Tensor> RotaryCosSin(const at::Tensor& positions,
                                               const at::Tensor& inv_freq) {
  // Angles in float64: at position 1e7 a float32 product is off by ~0.3 rad, in float64 by
  // ~1e-9, so rotating at large absolute positions keeps the relative-position identity
  // R(a)^T R(b) = R(b - a) to float32 rounding.
  at::Tensor freqs = at::outer(positions.to(at::kDouble), inv_freq.to(at::kDouble));
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {emb.cos().to(at::kFloat), emb.sin().to(at::kFloat)};
}

at::Tensor ApplyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t rot = cos.size(-1);
  if (rot == 0) return x;
  const int64_t hd = x.size(-1);
  at::Tensor xr = x.narrow(-1, 0, rot);
  at::Tensor rotated = at::cat({-xr.narrow(-1, rot / 2, rot / 2), xr.narrow(-1, 0, rot / 2)}, -1);
  at::Tensor out = xr * cos + rotated * sin;
  return rot == hd ? out : at::cat({out, x.narrow(-1, rot, hd - rot)}, -1);
}

std::unique_ptr<GptNeox> GptNeox::Load(const ModelConfig& c, WeightSource& w, at::Device device,
                                       at::ScalarType dtype) {
  std::unique_ptr<GptNeox> m(new GptNeox(c, device, dtype));
  const int64_t h = c.hidden_size, f = c.intermediate_size;
  m->embed_in_ = Take(w, "gpt_neox.embed_in.weight", device, dtype, {c.vocab_size, h});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "gpt_neox.layers." + std::to_string(i) + ".";
    Layer L;
    L.ln1_w = Take(w, p + "input_layernorm.weight", device, dtype, {h});
    L.ln1_b = Take(w, p + "input_layernorm.bias", device, dtype, {h});
    L.ln2_w = Take(w, p + "post_attention_layernorm.weight", device, dtype, {h});
    L.ln2_b = Take(w, p + "post_attention_layernorm.bias", device, dtype, {h});
    auto linear = [&](const std::string& name, int64_t out, int64_t in, bool bias) {
      at::Tensor weight = Take(w, p + name + ".weight", device, dtype, {out, in});
      at::Tensor b = bias ? Take(w, p + name + ".bias", device, dtype, {out}) : at::Tensor();
      return MakeDenseLinear(std::move(weight), std::move(b));
    };
    L.qkv = linear("attention.query_key_value", 3 * h, h, c.attention_bias);
    L.dense = linear("attention.dense", h, h, c.attention_bias);
    L.fc_in = linear("mlp.dense_h_to_4h", f, h, true);
    L.fc_out = linear("mlp.dense_4h_to_h", h, f, true);
    m->layers_.push_back(std::move(L));
  }
  m->final_ln_w_ = Take(w, "gpt_neox.final_layer_norm.weight", device, dtype, {h});
  m->final_ln_b_ = Take(w, "gpt_neox.final_layer_norm.bias", device, dtype, {h});
  if (w.Has("embed_out.weight") || !c.tie_word_embeddings) {
    m->embed_out_ = MakeDenseLinear(Take(w, "embed_out.weight", device, dtype, {c.vocab_size, h}),
                                    at::Tensor());
  } else {
    m->embed_out_ = MakeDenseLinear(m->embed_in_, at::Tensor());
  }
  const int64_t rot = c.rotary_dims();
  auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
  // As transformers: inv_freq = 1 / base^(2i / rot), computed in float32.
  m->inv_freq_ =
      1.0 / at::pow(c.rotary_base,
                    at::arange(0, rot, 2, at::TensorOptions().dtype(at::kLong).device(device))
                            .to(at::kFloat) /
                        static_cast<double>(rot));
  m->inv_freq_ = m->inv_freq_.to(f32);
  m->EnsureRotaryPositions(std::max<int64_t>(c.max_position_embeddings, 1));
  m->BuildStepRotation();
  return m;
}

void GptNeox::BuildStepRotation() {
  // A decode step maps each head's packed [q k v] (3 hd) to [q at the query's cache
  // position | q at its absolute position | k at its absolute position | v] (4 hd) with one
  // matrix product. Rotate-half on the first `rot` dims as a matrix acting on a row vector:
  // out_i = x_i cos_i - x_{i+h} sin_i (i < h), out_i = x_i cos_i + x_{i-h} sin_i (h <= i <
  // rot), out_i = x_i beyond; the query blocks carry 1/sqrt(hd). Entries that depend on the
  // position are written each step at rot_index_, in the order of the values DecodeStep
  // builds: [cos (rot) | -sin (h) | sin (h)] per block.
  const int64_t hd = config_.head_dim(), rot = config_.rotary_dims(), h = rot / 2;
  const int64_t width = 4 * hd;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  at::Tensor base = at::zeros({3 * hd, width}, at::TensorOptions().dtype(at::kFloat));
  float* b = base.data_ptr<float>();
  std::vector<int64_t> index;
  struct Block {
    int64_t row, col;
    double scale;
  };
  for (const Block& blk : {Block{0, 0, scale}, Block{0, hd, scale}, Block{hd, 2 * hd, 1.0}}) {
    for (int64_t i = rot; i < hd; ++i)
      b[(blk.row + i) * width + blk.col + i] = static_cast<float>(blk.scale);
    for (int64_t i = 0; i < rot; ++i) index.push_back((blk.row + i) * width + blk.col + i);
    for (int64_t i = 0; i < h; ++i) index.push_back((blk.row + i + h) * width + blk.col + i);
    for (int64_t i = 0; i < h; ++i) index.push_back((blk.row + i) * width + blk.col + i + h);
  }
  for (int64_t i = 0; i < hd; ++i) b[(2 * hd + i) * width + 3 * hd + i] = 1.f;
  rot_base_ = base.to(device_);
  rot_index_ = at::tensor(index, at::TensorOptions().dtype(at::kLong)).to(device_);
  rot_scale_ = at::tensor(std::vector<float>{static_cast<float>(scale), static_cast<float>(scale), 1.f})
                   .view({3, 1})
                   .to(device_);
}

void GptNeox::EnsureRotaryPositions(int64_t n) {
  if (cos_table_.defined() && cos_table_.size(0) >= n) return;
  auto [cos, sin] =
      RotaryCosSin(at::arange(n, at::TensorOptions().dtype(at::kLong).device(device_)), inv_freq_);
  cos_table_ = cos.contiguous();
  sin_table_ = sin.contiguous();
}

std::string GptNeox::QuantizationUnsupportedReason(const ModelConfig& config, at::Device device,
                                                   at::ScalarType dtype, const QuantSpec& spec,
                                                   const std::string& scope, bool quantize_head) {
  if (scope != "all" && scope != "mlp" && scope != "attention")
    return "unknown quant scope '" + scope + "' (known: all, mlp, attention)";
  if (spec.method == QuantMethod::kNone) return "";
  const int64_t h = config.hidden_size, f = config.intermediate_size;
  struct Shape {
    int64_t n, k;
    bool attention;
  };
  for (const Shape& s :
       {Shape{3 * h, h, true}, Shape{h, h, true}, Shape{f, h, false}, Shape{h, f, false}}) {
    if (!InScope(scope, s.attention)) continue;
    std::string r = QuantUnsupportedReason(spec, device, dtype, s.n, s.k);
    if (!r.empty()) return r;
  }
  if (quantize_head) return QuantUnsupportedReason(spec, device, dtype, config.vocab_size, h);
  return "";
}

void GptNeox::Quantize(const QuantSpec& spec, const std::string& scope, bool quantize_head) {
  if (spec.method == QuantMethod::kNone) return;
  // One layer at a time, so peak memory is the model plus one layer's quantized copy.
  auto requant = [&](std::unique_ptr<Linear>& lin) {
    auto [weight, bias] = lin->DenseParameters();
    lin.reset();
    lin = MakeQuantizedLinear(spec, std::move(weight), std::move(bias));
  };
  for (Layer& L : layers_) {
    if (InScope(scope, true)) {
      requant(L.qkv);
      requant(L.dense);
    }
    if (InScope(scope, false)) {
      requant(L.fc_in);
      requant(L.fc_out);
    }
  }
  // A tied head shares embed_in's tensor: the embedding keeps it, the head gets its own
  // quantized copy.
  if (quantize_head) requant(embed_out_);
}

int64_t GptNeox::WeightBytes() const {
  auto bytes = [](const at::Tensor& t) {
    return t.numel() * static_cast<int64_t>(t.element_size());
  };
  int64_t total = bytes(embed_in_) + bytes(final_ln_w_) + bytes(final_ln_b_);
  if (embed_out_) total += embed_out_->WeightBytes();
  for (const Layer& L : layers_) {
    total += bytes(L.ln1_w) + bytes(L.ln1_b) + bytes(L.ln2_w) + bytes(L.ln2_b);
    total += L.qkv->WeightBytes() + L.dense->WeightBytes() + L.fc_in->WeightBytes() +
             L.fc_out->WeightBytes();
  }
  return total;
}

StreamingCache GptNeox::MakeCache(const CachePolicy& policy, int64_t max_tokens,
                                  bool static_shapes) const {
  return StreamingCache(config_.num_layers, config_.num_heads, config_.head_dim(), policy,
                        max_tokens, static_shapes,
                        at::TensorOptions().dtype(dtype_).device(device_));
}

at::Tensor GptNeox::LayerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const {
  return at::layer_norm(x, {config_.hidden_size}, w, b, config_.layer_norm_eps);
}

at::Tensor GptNeox::Mlp(const Layer& L, const at::Tensor& x) const {
  return L.fc_out->Forward(at::gelu(L.fc_in->Forward(x)));  // exact erf GELU
}

at::Tensor GptNeox::Block(const Layer& L, const at::Tensor& x, ForwardObserver* obs,
                          const std::function<at::Tensor(const at::Tensor&)>& attention) const {
  at::Tensor ln1;
  {
    ObservedSection s(obs, ForwardSection::kNormResidual);
    ln1 = LayerNorm(x, L.ln1_w, L.ln1_b);
  }
  at::Tensor attn;
  {
    ObservedSection s(obs, ForwardSection::kAttention);
    attn = attention(ln1);
  }
  if (config_.use_parallel_residual) {
    // x + attn(ln1(x)) + mlp(ln2(x)), summed in transformers' order.
    at::Tensor ln2;
    {
      ObservedSection s(obs, ForwardSection::kNormResidual);
      ln2 = LayerNorm(x, L.ln2_w, L.ln2_b);
    }
    at::Tensor mlp;
    {
      ObservedSection s(obs, ForwardSection::kMlp);
      mlp = Mlp(L, ln2);
    }
    ObservedSection s(obs, ForwardSection::kNormResidual);
    return mlp + attn + x;
  }
  at::Tensor h, ln2;
  {
    ObservedSection s(obs, ForwardSection::kNormResidual);
    h = attn + x;
    ln2 = LayerNorm(h, L.ln2_w, L.ln2_b);
  }
  at::Tensor mlp;
  {
    ObservedSection s(obs, ForwardSection::kMlp);
    mlp = Mlp(L, ln2);
  }
  ObservedSection s(obs, ForwardSection::kNormResidual);
  return mlp + h;
}

at::Tensor GptNeox::PrefillAttention(const Layer& L, const at::Tensor& x) const {
  const int64_t t = x.size(0), nh = config_.num_heads, hd = config_.head_dim(),
                rot = config_.rotary_dims();
  at::Tensor qkv = L.qkv->Forward(x).view({t, nh, 3 * hd}).transpose(0, 1);  // [H, T, 3hd]
  at::Tensor cos = cos_table_.narrow(0, 0, t).narrow(1, 0, rot);
  at::Tensor sin = sin_table_.narrow(0, 0, t).narrow(1, 0, rot);
  at::Tensor q = ApplyRotary(qkv.narrow(2, 0, hd).to(at::kFloat), cos, sin);
  at::Tensor k = ApplyRotary(qkv.narrow(2, hd, hd).to(at::kFloat), cos, sin);
  at::Tensor v = qkv.narrow(2, 2 * hd, hd);
  at::Tensor scores =
      at::matmul(q, k.transpose(1, 2)).mul_(1.0 / std::sqrt(static_cast<double>(hd)));
  at::Tensor causal =
      at::ones({t, t}, at::TensorOptions().dtype(at::kBool).device(device_)).triu(1);
  scores.masked_fill_(causal, -std::numeric_limits<float>::infinity());
  at::Tensor probs = at::softmax(scores, -1).to(dtype_);
  at::Tensor out = at::matmul(probs, v).transpose(0, 1).reshape({t, nh * hd});
  return L.dense->Forward(out);
}

at::Tensor GptNeox::Forward(const at::Tensor& ids, ForwardObserver* obs) const {
  const int64_t t = ids.size(0);
  if (t > cos_table_.size(0)) throw std::runtime_error("Forward: call EnsureRotaryPositions first");
  at::Tensor x;
  {
    ObservedSection s(obs, ForwardSection::kEmbedding);
    x = embed_in_.index_select(0, ids);
  }
  if (obs) obs->Output("gpt_neox.embed_in", x);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& L = layers_[i];
    x = Block(L, x, obs, [&](const at::Tensor& h) { return PrefillAttention(L, h); });
    if (obs) obs->Output("gpt_neox.layers." + std::to_string(i), x);
  }
  {
    ObservedSection s(obs, ForwardSection::kNormResidual);
    x = LayerNorm(x, final_ln_w_, final_ln_b_);
  }
  if (obs) obs->Output("gpt_neox.final_layer_norm", x);
  at::Tensor logits;
  {
    ObservedSection s(obs, ForwardSection::kHead);
    logits = embed_out_->Forward(x);
  }
  if (obs) obs->Output("embed_out", logits);
  return logits;
}

at::Tensor GptNeox::Scores(const at::Tensor& q, const at::Tensor& keys) const {
  // q: float32 [H, 2, hd]; keys: [H, len, hd] in the model dtype, read in place.
  at::Tensor kt = keys.transpose(1, 2);
  if (dtype_ == at::kFloat) return at::bmm(q, kt);
  // fp16/bf16 operands, fp32 accumulation and fp32 scores (cuBLAS).
  if (device_.is_cuda()) return at::bmm(q.to(dtype_), kt, at::kFloat);
  // ATen's CPU bmm has no fp32 output for 16-bit operands: the CPU widens the keys.
  return at::bmm(q, kt.to(at::kFloat));
}

at::Tensor GptNeox::StepAttention(const Layer& L, int64_t index, const at::Tensor& x,
                                  StreamingCache& cache, const StepContext& step) const {
  const int64_t nh = config_.num_heads, hd = config_.head_dim();
  // [H, 4hd] float32: q at its cache position, q at its absolute position (both scaled by
  // 1/sqrt(hd)), k at its absolute position, v (BuildStepRotation).
  at::Tensor proj = at::mm(L.qkv->Forward(x).view({nh, 3 * hd}).to(at::kFloat), step.rotation);
  at::Tensor& kv = cache.kv(index);
  kv.index_copy_(1, step.write_slot, proj.narrow(1, 2 * hd, 2 * hd).unsqueeze(1).to(dtype_));
  const int64_t len = cache.attend_len();
  at::Tensor cached = kv.narrow(1, 0, len);
  // Both queries against every key in one product; the sinks take the first row's scores
  // (query at its cache position), the window the second's (absolute position). The
  // position differences are then the pos-shift reference's (docs/worker.md).
  at::Tensor scores2 = Scores(proj.narrow(1, 0, 2 * hd).view({nh, 2, hd}), cached.narrow(2, 0, hd));
  const int64_t sinks = std::min(cache.sink_slots(), len);
  if (sinks > 0)
    scores2.select(1, 1).narrow(1, 0, sinks).copy_(scores2.select(1, 0).narrow(1, 0, sinks));
  at::Tensor scores = scores2.narrow(1, 1, 1);  // [H, 1, len]
  if (step.mask.defined()) scores = scores + step.mask;
  at::Tensor probs = at::softmax(scores, -1).to(dtype_);
  at::Tensor out = at::bmm(probs, cached.narrow(2, hd, hd)).view({1, nh * hd});
  return L.dense->Forward(out);
}

at::Tensor GptNeox::DecodeStep(const at::Tensor& token, StreamingCache& cache,
                               ForwardObserver* obs) const {
  if (CpuStepApplies(cache, obs)) return CpuDecodeStep(token, cache);
  const int64_t hd = config_.head_dim(), h = config_.rotary_dims() / 2;
  at::Tensor x;
  {
    ObservedSection s(obs, ForwardSection::kEmbedding);
    x = embed_in_.index_select(0, token);
  }
  StepContext step;
  {
    // This step's indices (on the device) and rotation matrix, shared by all layers.
    ObservedSection s(obs, ForwardSection::kAttention);
    StepIndices idx = cache.DeviceStepIndices();
    auto [cos, sin] =
        RotaryCosSin(at::cat({idx.query_cache_pos, idx.position, idx.position}), inv_freq_);
    at::Tensor values = at::cat({cos, -sin.narrow(1, 0, h), sin.narrow(1, h, h)}, 1).mul_(rot_scale_);
    step.rotation = rot_base_.view(-1).index_copy(0, rot_index_, values.view(-1)).view({3 * hd, 4 * hd});
    step.write_slot = idx.write_slot;
    step.mask = idx.mask;
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& L = layers_[i];
    x = Block(L, x, obs, [&](const at::Tensor& hidden) {
      return StepAttention(L, static_cast<int64_t>(i), hidden, cache, step);
    });
    if (obs) obs->Output("gpt_neox.layers." + std::to_string(i), x);
  }
  cache.AdvanceDeviceStep();
  {
    ObservedSection s(obs, ForwardSection::kNormResidual);
    x = LayerNorm(x, final_ln_w_, final_ln_b_);
  }
  ObservedSection s(obs, ForwardSection::kHead);
  return embed_out_->Forward(x);
}

}  // namespace orch::worker
