// GptNeox: Hugging Face's GPTNeoXForCausalLM (Pythia) forward pass on LibTorch, for one
// sequence. Forward() is the full causal pass (tests, sanity mode); DecodeStep() processes
// one token against a StreamingCache. Matches transformers: parallel or sequential residual,
// per-head packed query_key_value, partial NeoX rotary (rotate-half), exact-erf GELU, untied
// embed_out. Attention scores and softmax are computed in fp32 for every dtype.
// Not thread-safe; const methods may be called repeatedly.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "worker/model/forward_observer.h"
#include "worker/model/model_config.h"
#include "worker/quant/quantized_linear.h"
#include "worker/cache/streaming_cache.h"
#include "worker/weights/weight_source.h"

namespace orch::worker {

// Per-step state of the fused CPU decode step (cpu_decode_step.cc).
struct CpuRotation {
  std::vector<float> cos, sin;  // [rotary_dims], times the query scale for queries
};
struct CpuStepRotations {
  float q_scale = 1.f;  // 1 / sqrt(head_dim)
  CpuRotation query_cache, query_abs, key_abs;
};
// One team member's private buffers: its layer-norm outputs (every member computes them) and
// its heads' rotated queries and scores.
struct CpuStepScratch {
  std::vector<float> ln, ln2, q2, scores;
};
struct CpuStepBuffers {
  std::vector<float> x, qkv, attn_in, attn, ffn, mlp;  // shared, each written in shares
  std::vector<CpuStepScratch> member;                  // [team size]
};
// The cache as one step sees it: capacity, attended length, write slot, sinks attended, and
// each layer's [heads, capacity, 2 head_dim] key | value buffer.
struct CpuStepCache {
  int64_t capacity = 0, len = 0, slot = 0, sinks = 0;
  std::vector<float*> kv;
};
class TeamMember;

class GptNeox {
 public:
  // Reads every tensor from `weights` straight onto device/dtype. Throws std::runtime_error
  // naming the tensor when one is missing or has the wrong shape.
  static std::unique_ptr<GptNeox> Load(const ModelConfig& config, WeightSource& weights,
                                       at::Device device, at::ScalarType dtype);

  const ModelConfig& config() const { return config_; }
  at::Device device() const { return device_; }
  at::ScalarType dtype() const { return dtype_; }

  // Which linears a quant scope covers: "all", "mlp" (dense_h_to_4h, dense_4h_to_h) or
  // "attention" (query_key_value, dense); the output head (embed_out, vocab x hidden) only
  // with quantize_head.
  // Empty when `spec` applies to every linear in scope on this device/dtype; else why not.
  // Static so that a trial can be answered `blocked` before any weight is read.
  static std::string QuantizationUnsupportedReason(const ModelConfig& config, at::Device device,
                                                   at::ScalarType dtype, const QuantSpec& spec,
                                                   const std::string& scope,
                                                   bool quantize_head = false);
  void Quantize(const QuantSpec& spec, const std::string& scope, bool quantize_head = false);

  // ids: int64 [T] on the device. Returns logits [T, vocab] in the model dtype.
  at::Tensor Forward(const at::Tensor& ids, ForwardObserver* observer = nullptr) const;

  // Makes the rotary tables of Forward cover positions [0, n). DecodeStep needs no table:
  // it computes its angles on the fly, at any position.
  void EnsureRotaryPositions(int64_t n);
  // token: int64 [1] on the device. Call cache.BeginStep() before and cache.EndStep() after.
  // Keys are cached rotated once at their absolute position; the query is rotated at its
  // absolute position (window) and at its cache position (sinks), which equals the
  // pos-shift reference (docs/worker.md). Reads the step's indices from the cache's device
  // counter and advances it, so the whole step can be captured and replayed as a CUDA graph.
  // Returns logits [1, vocab] in the model dtype.
  at::Tensor DecodeStep(const at::Tensor& token, StreamingCache& cache,
                        ForwardObserver* observer = nullptr) const;
  // DecodeStep of an fp32 model on the CPU runs fused (cpu_decode_step.cc: raw buffers,
  // orch's GEMV kernels, no ATen call per layer) when there is no observer, the cache has
  // dynamic shapes and every linear has a raw CPU form, as one parallel region over the
  // worker's threads (at::get_num_threads()); false forces the tensor path (tests compare
  // the two).
  void set_fused_cpu_step(bool on) { fused_cpu_step_ = on; }
  bool UsesFusedCpuStep(const StreamingCache& cache) const { return CpuStepApplies(cache, nullptr); }

  // Bytes of all resident parameters (quantized linears count their packed form).
  int64_t WeightBytes() const;

  StreamingCache MakeCache(const CachePolicy& policy, int64_t max_tokens, bool static_shapes) const;

 private:
  struct StepContext {
    at::Tensor rotation;    // float32 [3 hd, 4 hd] (BuildStepRotation)
    at::Tensor write_slot;  // int64 [1]
    at::Tensor mask;        // float32 [capacity] with static shapes, else undefined
  };
  struct Layer {
    at::Tensor ln1_w, ln1_b, ln2_w, ln2_b;
    std::unique_ptr<Linear> qkv, dense, fc_in, fc_out;
  };
  GptNeox(const ModelConfig& c, at::Device d, at::ScalarType t)
      : config_(c), device_(d), dtype_(t) {}

  at::Tensor LayerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const;
  at::Tensor Mlp(const Layer& layer, const at::Tensor& x) const;
  // x: [T, hidden] -> [T, hidden]; full causal attention at positions 0..T-1.
  at::Tensor PrefillAttention(const Layer& layer, const at::Tensor& x) const;
  at::Tensor StepAttention(const Layer& layer, int64_t index, const at::Tensor& x,
                           StreamingCache& cache, const StepContext& step) const;
  // float32 scores [H, 2, len] of the two queries against the cached keys.
  at::Tensor Scores(const at::Tensor& q, const at::Tensor& keys) const;
  void BuildStepRotation();
  bool CpuStepApplies(const StreamingCache& cache, const ForwardObserver* obs) const;
  at::Tensor CpuDecodeStep(const at::Tensor& token, StreamingCache& cache) const;
  // One layer for team member `tm`: its share of every GEMV's outputs and of the heads, with
  // barriers between dependent phases; buf.x is updated (each member its share of rows).
  void CpuStepLayer(const Layer& layer, const CpuStepCache& cache, int64_t index,
                    const CpuStepRotations& rot, CpuStepBuffers& buf, const TeamMember& tm) const;
  // Attention of heads [h0, h1) from buf.qkv into buf.attn_in (before the dense projection).
  void CpuStepHeads(float* kv, const CpuStepCache& cache, const CpuStepRotations& rot,
                    CpuStepBuffers& buf, CpuStepScratch& s, int64_t h0, int64_t h1) const;
  at::Tensor Block(const Layer& layer, const at::Tensor& x, ForwardObserver* obs,
                   const std::function<at::Tensor(const at::Tensor&)>& attention) const;

  ModelConfig config_;
  at::Device device_;
  at::ScalarType dtype_;
  at::Tensor embed_in_, final_ln_w_, final_ln_b_;
  std::unique_ptr<Linear> embed_out_;
  std::vector<Layer> layers_;
  at::Tensor inv_freq_;               // float32 [rotary_dims / 2]
  at::Tensor cos_table_, sin_table_;  // float32 [positions, rotary_dims], for Forward
  at::Tensor rot_base_;   // float32 [3 hd, 4 hd]: the position-independent entries
  at::Tensor rot_index_;  // int64: flat indices of the position-dependent entries
  at::Tensor rot_scale_;  // float32 [3, 1]: 1/sqrt(hd), 1/sqrt(hd), 1
  bool fused_cpu_step_ = true;
};

// cos and sin [N, rotary_dims] of int64 `positions` [N] for float32 `inv_freq` [rotary_dims / 2]
// (transformers' frequencies), angles computed in float64, so exact at any position.
std::pair<at::Tensor, at::Tensor> RotaryCosSin(const at::Tensor& positions, const at::Tensor& inv_freq);

// Rotate-half rotary on the leading `cos.size(-1)` dims of x's last axis (float32 math).
// x: [..., L, head_dim]; cos/sin: [L, rotary_dims] broadcast over leading axes.
at::Tensor ApplyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace orch::worker
