#include "worker/cache/streaming_cache.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace orch::worker {

StreamingCache::StreamingCache(int64_t num_layers, int64_t num_heads, int64_t head_dim,
                               CachePolicy policy, int64_t max_tokens, bool static_shapes,
                               at::TensorOptions options)
    : policy_(policy), head_dim_(head_dim), static_shapes_(static_shapes) {
  if (policy_.window) {
    ring_ = *policy_.window + 1;
    capacity_ = policy_.n_sink + ring_;
  } else {
    capacity_ = std::max<int64_t>(max_tokens, 1);
  }
  for (int64_t l = 0; l < num_layers; ++l)
    kv_.push_back(at::zeros({num_heads, capacity_, 2 * head_dim}, options));
  auto dev_long = options.dtype(at::kLong);
  device_step_ = at::zeros({1}, dev_long);
  slot_ids_ = at::arange(capacity_, dev_long);
  Reset();
}

void StreamingCache::Reset() {
  tokens_seen_ = 0;
  valid_ = 0;
  slot_token_.assign(static_cast<size_t>(capacity_), -1);
  device_step_.zero_();
  // Stale keys/values stay in the buffers: they are never attended (prefix or -inf mask).
}

at::Tensor StreamingCache::keys(int64_t layer) const {
  return kv_[static_cast<size_t>(layer)].narrow(2, 0, head_dim_);
}

at::Tensor StreamingCache::values(int64_t layer) const {
  return kv_[static_cast<size_t>(layer)].narrow(2, head_dim_, head_dim_);
}

int64_t StreamingCache::SlotOf(int64_t t) const {
  if (!policy_.window) return t;
  if (t < policy_.n_sink) return t;
  return policy_.n_sink + (t - policy_.n_sink) % ring_;
}

void StreamingCache::BeginStep() {
  const int64_t t = tokens_seen_;
  if (!policy_.window && t >= capacity_)
    throw std::runtime_error("full-window cache holds " + std::to_string(capacity_) +
                             " tokens; token " + std::to_string(t) + " does not fit");
  slot_token_[static_cast<size_t>(SlotOf(t))] = t;
  valid_ = std::min(t + 1, capacity_);
}

StepIndices StreamingCache::DeviceStepIndices() const {
  // The same formulas as SlotOf and the host mirror, on the device counter t:
  //  - slot: t for the sinks and a full cache, n_sink + (t - n_sink) mod ring otherwise;
  //  - cache position of the query (pos-shift): the sinks, then the ring's tokens oldest
  //    first, so min(t, capacity - 1);
  //  - slot s is filled once t >= s (slots fill in order before the ring wraps).
  StepIndices s;
  const at::Tensor& t = device_step_;
  s.position = t;
  if (policy_.window) {
    const int64_t n_sink = policy_.n_sink;
    at::Tensor ring_slot = at::remainder(t - n_sink, ring_).add_(n_sink);
    s.write_slot = at::where(t < n_sink, t, ring_slot);
  } else {
    s.write_slot = t;
  }
  s.query_cache_pos = at::clamp_max(t, capacity_ - 1);
  if (static_shapes_) {
    s.mask = at::where(slot_ids_ <= t, at::Scalar(0.f),
                       at::Scalar(-std::numeric_limits<float>::infinity()));
  }
  return s;
}

std::vector<int64_t> StreamingCache::CachedTokens() const {
  const int64_t seen = tokens_seen_;
  std::vector<int64_t> out;
  if (!policy_.window) {
    for (int64_t u = 0; u < seen; ++u) out.push_back(slot_token_[static_cast<size_t>(u)]);
    return out;
  }
  const int64_t n_sink = policy_.n_sink, window = *policy_.window;
  for (int64_t s = 0; s < std::min(n_sink, seen); ++s)
    out.push_back(slot_token_[static_cast<size_t>(s)]);
  // The ring holds up to window+1 tokens; the oldest of them is evicted once the next step
  // overwrites its slot, so for the next step only the newest `window` count.
  std::vector<int64_t> ring;
  for (int64_t s = n_sink; s < capacity_; ++s) {
    const int64_t u = slot_token_[static_cast<size_t>(s)];
    if (u >= 0) ring.push_back(u);
  }
  std::sort(ring.begin(), ring.end());
  const int64_t keep = std::min<int64_t>(window, static_cast<int64_t>(ring.size()));
  out.insert(out.end(), ring.end() - keep, ring.end());
  return out;
}

int64_t StreamingCache::ResidentBytes() const {
  int64_t total = 0;
  for (const auto& t : kv_) total += t.numel() * static_cast<int64_t>(t.element_size());
  return total;
}

}  // namespace orch::worker
