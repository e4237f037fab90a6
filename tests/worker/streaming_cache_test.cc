#include "worker/cache/streaming_cache.h"

#include <gtest/gtest.h>

#include <set>

namespace orch::worker {
namespace {

StreamingCache MakeCache(CachePolicy p, int64_t max_tokens = 64, bool static_shapes = false) {
  return StreamingCache(1, 2, 4, p, max_tokens, static_shapes,
                        at::TensorOptions().dtype(at::kFloat));
}

std::vector<int64_t> Expected(int64_t seen, int64_t n_sink, int64_t window) {
  std::vector<int64_t> out;
  for (int64_t u = 0; u < std::min(seen, n_sink); ++u) out.push_back(u);
  for (int64_t u = std::max(n_sink, seen - window); u < seen; ++u) out.push_back(u);
  return out;
}

// One step as the model does it: host bookkeeping, device indices, counter increment.
StepIndices Step(StreamingCache& cache) {
  cache.BeginStep();
  StepIndices idx = cache.DeviceStepIndices();
  cache.AdvanceDeviceStep();
  cache.EndStep();
  return idx;
}

TEST(StreamingCache, AfterEvictionHoldsFirstSinksAndLastWindow) {
  for (auto [n_sink, window] : {std::pair<int64_t, int64_t>{4, 8}, {0, 5}, {2, 1}, {3, 0}}) {
    StreamingCache cache = MakeCache({n_sink, window});
    EXPECT_EQ(cache.capacity(), n_sink + window + 1);
    for (int64_t t = 0; t < 40; ++t) {
      Step(cache);
      EXPECT_EQ(cache.CachedTokens(), Expected(t + 1, n_sink, window)) << "after token " << t;
    }
  }
}

TEST(StreamingCache, DeviceIndicesWriteEachTokenWhereTheCacheHoldsIt) {
  // Each step writes its token id (+1) at the device write slot; the slots must then hold
  // exactly the tokens this step attends (the previous step's cached tokens and its own:
  // the ring's window + 1 slots), the query's pos-shift cache position must
  // be the number of tokens it attends besides itself, and the mask must open exactly the
  // written slots.
  for (CachePolicy policy :
       {CachePolicy{2, 3}, CachePolicy{0, 4}, CachePolicy{3, 0}, CachePolicy{4, std::nullopt}}) {
    StreamingCache cache = MakeCache(policy, 30, /*static_shapes=*/true);
    at::Tensor written = at::zeros({cache.capacity()}, at::kLong);
    for (int64_t t = 0; t < 30; ++t) {
      const std::vector<int64_t> before = cache.CachedTokens();
      cache.BeginStep();
      StepIndices idx = cache.DeviceStepIndices();
      EXPECT_EQ(idx.position.item<int64_t>(), t);
      EXPECT_EQ(idx.query_cache_pos.item<int64_t>(), static_cast<int64_t>(before.size()))
          << "token " << t;
      written.index_fill_(0, idx.write_slot, t + 1);
      std::set<int64_t> in_slots;
      for (int64_t s = 0; s < cache.capacity(); ++s) {
        const int64_t u = written[s].item<int64_t>() - 1;
        EXPECT_EQ(idx.mask[s].item<float>() == 0.f, u >= 0) << "slot " << s << " token " << t;
        if (u >= 0) in_slots.insert(u);
      }
      std::set<int64_t> want(before.begin(), before.end());
      want.insert(t);
      EXPECT_EQ(in_slots, want) << "token " << t;
      cache.AdvanceDeviceStep();
      cache.EndStep();
    }
  }
}

TEST(StreamingCache, SinkSlotsOnlyWhenWindowedWithSinks) {
  EXPECT_EQ(MakeCache({4, 8}).sink_slots(), 4);
  EXPECT_EQ(MakeCache({0, 8}).sink_slots(), 0);
  EXPECT_EQ(MakeCache({4, std::nullopt}).sink_slots(), 0);
}

TEST(StreamingCache, ResetRewindsTheDeviceCounter) {
  StreamingCache cache = MakeCache({1, 2});
  for (int t = 0; t < 5; ++t) Step(cache);
  cache.Reset();
  EXPECT_EQ(cache.DeviceStepIndices().position.item<int64_t>(), 0);
  EXPECT_TRUE(cache.CachedTokens().empty());
}

TEST(StreamingCache, SlotsAreReusedWithoutGrowing) {
  StreamingCache cache = MakeCache({1, 2});
  const void* keys = cache.keys(0).data_ptr();
  std::vector<int64_t> slots;
  for (int t = 0; t < 8; ++t) slots.push_back(Step(cache).write_slot.item<int64_t>());
  EXPECT_EQ(slots, (std::vector<int64_t>{0, 1, 2, 3, 1, 2, 3, 1}));
  EXPECT_EQ(cache.keys(0).data_ptr(), keys);
  EXPECT_EQ(cache.keys(0).size(1), 4);
  EXPECT_EQ(cache.values(0).size(2), 4);
}

TEST(StreamingCache, FullWindowGrowsToCapacityThenRefuses) {
  StreamingCache cache = MakeCache({4, std::nullopt}, 3);
  for (int t = 0; t < 3; ++t) Step(cache);
  EXPECT_EQ(cache.CachedTokens(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_THROW(cache.BeginStep(), std::runtime_error);
}

TEST(StreamingCache, StaticShapesMaskEmptySlots) {
  StreamingCache cache = MakeCache({1, 4}, 64, true);
  cache.BeginStep();
  StepIndices idx = cache.DeviceStepIndices();
  EXPECT_EQ(cache.attend_len(), cache.capacity());
  EXPECT_EQ(idx.mask[0].item<float>(), 0.f);
  EXPECT_TRUE(std::isinf(idx.mask[1].item<float>()));
}

}  // namespace
}  // namespace orch::worker
