#include "worker/cache/streaming_cache.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace orch::worker {

StreamingCache::StreamingCache(int64_t num_layers, int64_t num_heads, int64_t head_dim,
                               CachePolicy policy, int64_t max_tokens, bool static_shapes,
                               at::TensorOptions options)
    : policy_(policy), static_shapes_(static_shapes) {
  if (policy_.window) {
    ring_ = *policy_.window + 1;
    capacity_ = policy_.n_sink + ring_;
  } else {
    capacity_ = std::max<int64_t>(max_tokens, 1);
  }
  for (int64_t l = 0; l < num_layers; ++l) {
    keys_.push_back(at::zeros({num_heads, capacity_, head_dim}, options));
    values_.push_back(at::zeros({num_heads, capacity_, head_dim}, options));
  }
  auto dev_long = options.dtype(at::kLong);
  auto host_long = at::TensorOptions().dtype(at::kLong);
  write_slot_ = at::zeros({1}, dev_long);
  query_pos_ = at::zeros({1}, dev_long);
  positions_ = at::zeros({capacity_}, dev_long);
  mask_ = at::zeros({capacity_}, options.dtype(at::kFloat));
  write_slot_host_ = at::zeros({1}, host_long);
  query_pos_host_ = at::zeros({1}, host_long);
  positions_host_ = at::zeros({capacity_}, host_long);
  mask_host_ = at::zeros({capacity_}, at::TensorOptions().dtype(at::kFloat));
  Reset();
}

void StreamingCache::Reset() {
  tokens_seen_ = 0;
  valid_ = 0;
  slot_token_.assign(static_cast<size_t>(capacity_), -1);
  // Stale keys/values stay in the buffers: they are never attended (prefix or -inf mask).
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
  const int64_t slot = SlotOf(t);
  slot_token_[static_cast<size_t>(slot)] = t;
  valid_ = std::min(t + 1, capacity_);

  auto* pos = positions_host_.data_ptr<int64_t>();
  auto* mask = mask_host_.data_ptr<float>();
  int64_t query_pos = t;
  if (policy_.window) {
    // Position in the cache: sinks first, then the ring's tokens from oldest to newest.
    const int64_t n_sink = policy_.n_sink;
    const int64_t oldest_in_ring = std::max(n_sink, t - ring_ + 1);
    for (int64_t s = 0; s < capacity_; ++s) {
      const int64_t u = slot_token_[static_cast<size_t>(s)];
      pos[s] = u < 0 ? 0 : (u < n_sink ? u : n_sink + (u - oldest_in_ring));
    }
    query_pos = t < n_sink ? t : n_sink + (t - oldest_in_ring);
  } else {
    for (int64_t s = 0; s < capacity_; ++s) pos[s] = s;
  }
  for (int64_t s = 0; s < capacity_; ++s)
    mask[s] =
        slot_token_[static_cast<size_t>(s)] < 0 ? -std::numeric_limits<float>::infinity() : 0.f;
  write_slot_host_.data_ptr<int64_t>()[0] = slot;
  query_pos_host_.data_ptr<int64_t>()[0] = query_pos;
  // In-place copies keep the device addresses fixed (CUDA graph replays read them).
  write_slot_.copy_(write_slot_host_);
  query_pos_.copy_(query_pos_host_);
  positions_.copy_(positions_host_);
  mask_.copy_(mask_host_);
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
  for (const auto& t : keys_) total += t.numel() * static_cast<int64_t>(t.element_size());
  for (const auto& t : values_) total += t.numel() * static_cast<int64_t>(t.element_size());
  return total;
}

}  // namespace orch::worker
