// StreamingCache: the StreamingLLM key/value cache (Xiao et al. 2023) in fixed-capacity
// buffers allocated once: `n_sink` attention-sink slots plus a ring of `window + 1` slots
// (the window most recent tokens and the token being decoded). `window = full` is the
// ordinary growing cache with room for `max_tokens`. No step allocates or concatenates
// cache memory, and all per-step indices live in device tensors, so a decode step can be
// captured as a CUDA graph.
//
// Positions (docs/worker.md): as in the StreamingLLM reference, keys are cached before
// rotary and rotated at every step by their position *in the cache* (sinks 0..n_sink-1,
// then the window in age order); the query takes the last position. With a full window
// positions never change, so keys are cached already rotated (same result, less work).
// Single-threaded.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace orch::worker {

struct CachePolicy {
  int64_t n_sink = 0;
  std::optional<int64_t> window;  // nullopt: full
};

class StreamingCache {
 public:
  // static_shapes: attention always spans the whole capacity with a -inf mask on empty slots
  // (for CUDA graphs); otherwise it spans only the filled prefix of the slots.
  StreamingCache(int64_t num_layers, int64_t num_heads, int64_t head_dim, CachePolicy policy,
                 int64_t max_tokens, bool static_shapes, at::TensorOptions options);

  void Reset();
  // Chooses the slot of token number tokens_seen() and uploads this step's write slot, slot
  // positions, query position and mask. Throws when a full cache has no room left.
  void BeginStep();
  // The token of this step is now cached; evicts (logically) what falls out of the window.
  void EndStep() { ++tokens_seen_; }

  int64_t capacity() const { return capacity_; }
  int64_t attend_len() const { return static_shapes_ ? capacity_ : valid_; }
  bool keys_rotated() const { return !policy_.window.has_value(); }
  bool static_shapes() const { return static_shapes_; }
  int64_t tokens_seen() const { return tokens_seen_; }

  at::Tensor& keys(int64_t layer) { return keys_[layer]; }  // [heads, capacity, head_dim]
  at::Tensor& values(int64_t layer) { return values_[layer]; }
  const at::Tensor& write_slot() const { return write_slot_; }     // int64 [1]
  const at::Tensor& slot_positions() const { return positions_; }  // int64 [capacity]
  const at::Tensor& query_position() const { return query_pos_; }  // int64 [1]
  const at::Tensor& mask() const { return mask_; }                 // float [capacity]: 0 / -inf

  // Absolute indices of the tokens the cache holds for the next step, in position order:
  // the first n_sink and the last `window` of the tokens seen (all of them when full).
  std::vector<int64_t> CachedTokens() const;
  int64_t ResidentBytes() const;

 private:
  int64_t SlotOf(int64_t token) const;

  CachePolicy policy_;
  int64_t capacity_ = 0;
  int64_t ring_ = 0;
  bool static_shapes_ = false;
  int64_t tokens_seen_ = 0;
  int64_t valid_ = 0;
  std::vector<at::Tensor> keys_, values_;
  std::vector<int64_t> slot_token_;  // host mirror: token index held by each slot, -1 if none
  at::Tensor write_slot_, positions_, query_pos_, mask_;                      // on the device
  at::Tensor write_slot_host_, positions_host_, query_pos_host_, mask_host_;  // on the host
};

}  // namespace orch::worker
