// StreamingCache: the StreamingLLM key/value cache (Xiao et al. 2023) in fixed-capacity
// buffers allocated once: `n_sink` attention-sink slots plus a ring of `window + 1` slots
// (the window most recent tokens and the token being decoded). `window = full` is the
// ordinary growing cache with room for `max_tokens`. No step allocates or concatenates
// cache memory.
//
// Positions (docs/worker.md, "StreamingLLM cache and positions"): every key is cached once,
// rotated at its absolute position (the sinks are tokens 0..n_sink-1, so that is theirs
// too). The reference (pos-shift) rotates keys by their position *in the cache* at every
// step; since RoPE scores depend only on position differences, the model rotates the query
// twice instead: at its absolute position t for the window (difference t - u, as in the
// reference) and at its cache position for the sinks (cache position - u, as in the
// reference). The per-step indices (absolute position, write slot, query cache position,
// mask) are derived on the device from a device-side step counter, so a step captured as
// a CUDA graph replays without any host upload. Single-threaded.
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace orch::worker {

struct CachePolicy {
  int64_t n_sink = 0;
  std::optional<int64_t> window;  // nullopt: full
};

// This step's indices, int64 [1] device tensors unless noted, computed on the device.
struct StepIndices {
  at::Tensor position;        // absolute position t of the token being decoded
  at::Tensor write_slot;      // slot its key/value go to
  at::Tensor query_cache_pos; // its position in the pos-shift scheme: min(t, capacity - 1)
  at::Tensor mask;            // float [capacity]: 0 on filled slots, -inf on empty ones
};

class StreamingCache {
 public:
  // static_shapes: attention always spans the whole capacity with a -inf mask on empty slots
  // (for CUDA graphs); otherwise it spans only the filled prefix of the slots.
  StreamingCache(int64_t num_layers, int64_t num_heads, int64_t head_dim, CachePolicy policy,
                 int64_t max_tokens, bool static_shapes, at::TensorOptions options);

  // Empties the cache (host bookkeeping and the device step counter).
  void Reset();
  // Host bookkeeping for token number tokens_seen(): which slot it takes, how many slots an
  // eager step attends. Uploads nothing. Throws when a full cache has no room left.
  void BeginStep();
  // The token of this step is now cached; evicts (logically) what falls out of the window.
  void EndStep() { ++tokens_seen_; }

  // Device side, called by the model inside the step (and so inside a captured graph):
  // this step's indices from the device step counter, and the counter's increment.
  StepIndices DeviceStepIndices() const;
  void AdvanceDeviceStep() { device_step_.add_(1); }
  // The same indices read on the host, for the fused CPU step (the counter is a CPU tensor
  // there; no ATen op): this step's token index t, its slot, its query's cache position, and
  // the counter's increment. CPU caches only.
  int64_t CpuStep() const { return *device_step_.data_ptr<int64_t>(); }
  int64_t CpuWriteSlot() const { return SlotOf(CpuStep()); }
  int64_t CpuQueryCachePos() const { return std::min(CpuStep(), capacity_ - 1); }
  void AdvanceCpuStep() { ++*device_step_.data_ptr<int64_t>(); }

  int64_t capacity() const { return capacity_; }
  int64_t attend_len() const { return static_shapes_ ? capacity_ : valid_; }
  // Slots whose scores use the query rotated at its cache position (the sinks of a
  // windowed cache); 0 when the cache position and the absolute position never differ.
  int64_t sink_slots() const { return policy_.window ? policy_.n_sink : 0; }
  bool static_shapes() const { return static_shapes_; }
  int64_t tokens_seen() const { return tokens_seen_; }

  // [heads, capacity, 2 * head_dim]: keys (rotated) in the first head_dim, values after,
  // so that one copy writes both.
  at::Tensor& kv(int64_t layer) { return kv_[static_cast<size_t>(layer)]; }
  at::Tensor keys(int64_t layer) const;    // [heads, capacity, head_dim] view
  at::Tensor values(int64_t layer) const;  // [heads, capacity, head_dim] view

  // Absolute indices of the tokens the cache holds for the next step, in position order:
  // the first n_sink and the last `window` of the tokens seen (all of them when full).
  std::vector<int64_t> CachedTokens() const;
  int64_t ResidentBytes() const;

 private:
  int64_t SlotOf(int64_t token) const;

  CachePolicy policy_;
  int64_t head_dim_ = 0;
  int64_t capacity_ = 0;
  int64_t ring_ = 0;
  bool static_shapes_ = false;
  int64_t tokens_seen_ = 0;
  int64_t valid_ = 0;
  std::vector<at::Tensor> kv_;
  std::vector<int64_t> slot_token_;  // host mirror: token index held by each slot, -1 if none
  at::Tensor device_step_;           // int64 [1] on the device: tokens cached so far
  at::Tensor slot_ids_;              // int64 [capacity] on the device: 0..capacity-1
};

}  // namespace orch::worker
