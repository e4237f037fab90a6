// GptNeox's fused CPU decode step: DecodeStep for an fp32 model on the CPU with an eager
// (not static-shape) cache and no observer, as one pass over raw fp32 buffers. Every linear
// goes through orch's CPU GEMV kernels (Linear::ForwardCpuF32), attention through the same
// kernels (scores: the cached keys as a strided GEMV; output: the probabilities times the
// cached values), and layer norm, rotary, softmax, GELU and the residual sums are plain loops:
// the ~20 ATen calls per layer of the tensor path (dispatch, allocation, a thread hand-off
// each) become none. The math is the tensor path's (gpt_neox.cc, StepAttention): keys cached
// rotated at their absolute position, the query rotated at its absolute position for the
// window and at its cache position for the sinks, scores and softmax in fp32, transformers'
// summation order for the parallel residual; only the rounding of the sums differs.
//
// Threads: the whole step is one RunTeam (thread_team.h) of at::get_num_threads() members
// (the worker's `threads` setting, ATen's intra-op threads). Every member computes the
// layer norms itself (512 values: cheaper than a barrier), then its share of each GEMV's
// output rows and of the attention heads, with a barrier wherever a phase reads what other
// members wrote: 4 per layer with the parallel residual (qkv, heads, GELU, residual), 5
// without. Each output is computed by the same code whatever the share, so the logits do not
// depend on the thread count.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "worker/cpu_kernels/gemv_kernels.h"
#include "worker/cpu_kernels/thread_team.h"
#include "worker/model/gpt_neox.h"

namespace orch::worker {
namespace {

// Outputs of a GEMV are shared among the team in multiples of 16 (a 64-byte line of fp32
// outputs, so no two members write one line; a multiple of the kernels' rows per block).
constexpr int64_t kRowShare = 16;

// at::layer_norm over one row of n values: (x - mean) / sqrt(var + eps) * w + b, biased
// variance; the moments are accumulated in fp64.
void LayerNormRow(const float* x, int64_t n, const at::Tensor& w, const at::Tensor& b,
                  double eps, float* out) {
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const float rstd = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(n) + eps));
  const float m = static_cast<float>(mean);
  const float* wp = w.data_ptr<float>();
  const float* bp = b.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - m) * rstd * wp[i] + bp[i];
}

// cos and sin of RotaryCosSin at one position, each multiplied by `scale` (the query's
// 1/sqrt(head_dim), 1 for keys): angles in fp64, rot = 2 * inv_freq's size.
CpuRotation RotationAt(int64_t position, const at::Tensor& inv_freq, float scale) {
  const int64_t half = inv_freq.size(0);
  const float* f = inv_freq.data_ptr<float>();
  CpuRotation r{std::vector<float>(2 * half), std::vector<float>(2 * half)};
  for (int64_t i = 0; i < 2 * half; ++i) {
    const double angle = static_cast<double>(position) * static_cast<double>(f[i % half]);
    r.cos[i] = static_cast<float>(std::cos(angle)) * scale;
    r.sin[i] = static_cast<float>(std::sin(angle)) * scale;
  }
  return r;
}

// Rotate-half on the first rot dims of one head (hd values), the rest times `scale`.
void Rotate(const float* x, int64_t hd, const CpuRotation& r, float scale, float* out) {
  const int64_t rot = static_cast<int64_t>(r.cos.size()), h = rot / 2;
  for (int64_t i = 0; i < h; ++i) out[i] = x[i] * r.cos[i] + x[i + h] * -r.sin[i];
  for (int64_t i = h; i < rot; ++i) out[i] = x[i] * r.cos[i] + x[i - h] * r.sin[i];
  for (int64_t i = rot; i < hd; ++i) out[i] = x[i] * scale;
}

void SoftmaxInPlace(float* s, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, s[i]);
  float sum = 0.f;
  for (int64_t i = 0; i < n; ++i) sum += (s[i] = std::exp(s[i] - mx));
  const float inv = 1.f / sum;
  for (int64_t i = 0; i < n; ++i) s[i] *= inv;
}

}  // namespace

bool GptNeox::CpuStepApplies(const StreamingCache& cache, const ForwardObserver* obs) const {
  if (!fused_cpu_step_ || obs || !device_.is_cpu() || dtype_ != at::kFloat ||
      cache.static_shapes())
    return false;
  if (!embed_out_->HasCpuF32Form()) return false;
  for (const Layer& L : layers_)
    if (!L.qkv->HasCpuF32Form() || !L.dense->HasCpuF32Form() || !L.fc_in->HasCpuF32Form() ||
        !L.fc_out->HasCpuF32Form())
      return false;
  return true;
}

void GptNeox::CpuStepHeads(float* kv, const CpuStepCache& c, const CpuStepRotations& rot,
                           CpuStepBuffers& buf, CpuStepScratch& s, int64_t h0, int64_t h1) const {
  const int64_t hd = config_.head_dim(), len = c.len, sinks = c.sinks;
  const GemvKernels& kern = GemvKernelsFor(ChosenIsaLevel());
  const float scale = rot.q_scale;
  for (int64_t head = h0; head < h1; ++head) {
    const float* x = buf.qkv.data() + head * 3 * hd;  // this head's [q | k | v]
    float* q2 = s.q2.data();                          // [q at cache pos | q at abs pos]
    Rotate(x, hd, rot.query_cache, scale, q2);
    Rotate(x, hd, rot.query_abs, scale, q2 + hd);
    float* base = kv + head * c.capacity * 2 * hd;
    Rotate(x + hd, hd, rot.key_abs, 1.f, base + c.slot * 2 * hd);
    std::copy(x + 2 * hd, x + 3 * hd, base + c.slot * 2 * hd + hd);
    // Scores of both queries against every cached key (keys are rows 2 hd apart); the sinks
    // take the first query's, the window the second's.
    float* s2 = s.scores.data();  // [2, len]
    GemvArgs a;
    a.x = sinks > 0 ? q2 : q2 + hd;
    a.m = sinks > 0 ? 2 : 1;
    a.k = hd;
    a.n_begin = 0;
    a.n_end = len;
    a.y = s2;
    a.ldy = len;
    a.ldw = 2 * hd;
    kern.f32(a, base);
    float* sc = sinks > 0 ? s2 + len : s2;
    std::copy(s2, s2 + sinks, sc);
    SoftmaxInPlace(sc, len);
    kern.f32_weighted_rows(sc, len, base + hd, 2 * hd, hd, buf.attn_in.data() + head * hd);
  }
}

void GptNeox::CpuStepLayer(const Layer& L, const CpuStepCache& c, int64_t index,
                           const CpuStepRotations& rot, CpuStepBuffers& buf,
                           const TeamMember& tm) const {
  const int64_t h = config_.hidden_size, f = config_.intermediate_size;
  const double eps = config_.layer_norm_eps;
  const bool parallel = config_.use_parallel_residual;
  CpuStepScratch& s = buf.member[static_cast<size_t>(tm.id())];
  float* x = buf.x.data();
  LayerNormRow(x, h, L.ln1_w, L.ln1_b, eps, s.ln.data());
  if (parallel) LayerNormRow(x, h, L.ln2_w, L.ln2_b, eps, s.ln2.data());
  const auto [q0, q1] = tm.Share(3 * h, kRowShare);
  L.qkv->ForwardCpuF32(s.ln.data(), 1, buf.qkv.data(), q0, q1);
  tm.Barrier();  // qkv complete
  const auto [h0, h1] = tm.Share(config_.num_heads);
  CpuStepHeads(c.kv[static_cast<size_t>(index)], c, rot, buf, s, h0, h1);
  tm.Barrier();  // attn_in complete
  const auto [r0, r1] = tm.Share(h, kRowShare);
  const float* attn = buf.attn.data();
  L.dense->ForwardCpuF32(buf.attn_in.data(), 1, buf.attn.data(), r0, r1);
  if (!parallel) {  // ln2 of x + attn (x itself is updated at the end: mlp + (attn + x))
    tm.Barrier();   // attn complete
    for (int64_t i = 0; i < h; ++i) s.ln2[i] = attn[i] + x[i];
    LayerNormRow(s.ln2.data(), h, L.ln2_w, L.ln2_b, eps, s.ln2.data());
  }
  const auto [f0, f1] = tm.Share(f, kRowShare);
  L.fc_in->ForwardCpuF32(s.ln2.data(), 1, buf.ffn.data(), f0, f1);
  float* g = buf.ffn.data();
  for (int64_t i = f0; i < f1; ++i)  // exact (erf) GELU, as at::gelu
    g[i] = 0.5f * g[i] * (1.f + std::erf(g[i] * 0.70710678118654752440f));
  tm.Barrier();  // ffn complete (and attn: every member has passed its dense share)
  L.fc_out->ForwardCpuF32(g, 1, buf.mlp.data(), r0, r1);
  const float* mlp = buf.mlp.data();
  if (parallel) {
    for (int64_t i = r0; i < r1; ++i) x[i] = (mlp[i] + attn[i]) + x[i];  // mlp + attn + x
  } else {
    for (int64_t i = r0; i < r1; ++i) x[i] = mlp[i] + (attn[i] + x[i]);
  }
  tm.Barrier();  // x complete
}

at::Tensor GptNeox::CpuDecodeStep(const at::Tensor& token, StreamingCache& cache) const {
  const int64_t h = config_.hidden_size, hd = config_.head_dim();
  const int64_t t = cache.CpuStep();
  CpuStepRotations rot;
  rot.q_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  rot.query_cache = RotationAt(cache.CpuQueryCachePos(), inv_freq_, rot.q_scale);
  rot.query_abs = RotationAt(t, inv_freq_, rot.q_scale);
  rot.key_abs = RotationAt(t, inv_freq_, 1.f);
  CpuStepCache c;
  c.capacity = cache.capacity();
  c.len = cache.attend_len();
  c.slot = cache.CpuWriteSlot();
  c.sinks = std::min(cache.sink_slots(), c.len);
  for (size_t i = 0; i < layers_.size(); ++i)
    c.kv.push_back(cache.kv(static_cast<int64_t>(i)).data_ptr<float>());
  // The team's size is decided inside RunTeam (1 when ATen hands out fewer threads), so
  // every member slot of the worker's thread count gets its scratch buffers.
  const int threads = std::max(1, at::get_num_threads());
  CpuStepBuffers buf;
  buf.x.resize(h);
  buf.qkv.resize(3 * h);
  buf.attn_in.resize(h);
  buf.attn.resize(h);
  buf.ffn.resize(config_.intermediate_size);
  buf.mlp.resize(h);
  buf.member.resize(static_cast<size_t>(threads));
  for (CpuStepScratch& s : buf.member) {
    s.ln.resize(h);
    s.ln2.resize(h);
    s.q2.resize(2 * hd);
    s.scores.resize(2 * c.len);
  }
  const int64_t id = token.to(at::kLong).data_ptr<int64_t>()[0];
  const float* row = embed_in_.data_ptr<float>() + id * h;
  std::copy(row, row + h, buf.x.data());
  at::Tensor logits = at::empty({1, config_.vocab_size}, at::TensorOptions().dtype(at::kFloat));
  float* out = logits.data_ptr<float>();
  RunTeam(threads, [&](const TeamMember& tm) {
    for (size_t i = 0; i < layers_.size(); ++i)
      CpuStepLayer(layers_[i], c, static_cast<int64_t>(i), rot, buf, tm);
    float* ln = buf.member[static_cast<size_t>(tm.id())].ln.data();
    LayerNormRow(buf.x.data(), h, final_ln_w_, final_ln_b_, config_.layer_norm_eps, ln);
    const auto [v0, v1] = tm.Share(config_.vocab_size, kRowShare);
    embed_out_->ForwardCpuF32(ln, 1, out, v0, v1);
  });
  cache.AdvanceCpuStep();
  return logits;
}

}  // namespace orch::worker
