#include "worker/cache/streaming_cache.h"

#include <gtest/gtest.h>

namespace orch::worker {
namespace {

StreamingCache MakeCache(CachePolicy p, int64_t max_tokens = 64) {
  return StreamingCache(1, 2, 4, p, max_tokens, false, at::TensorOptions().dtype(at::kFloat));
}

std::vector<int64_t> Expected(int64_t seen, int64_t n_sink, int64_t window) {
  std::vector<int64_t> out;
  for (int64_t u = 0; u < std::min(seen, n_sink); ++u) out.push_back(u);
  for (int64_t u = std::max(n_sink, seen - window); u < seen; ++u) out.push_back(u);
  return out;
}

TEST(StreamingCache, AfterEvictionHoldsFirstSinksAndLastWindow) {
  for (auto [n_sink, window] : {std::pair<int64_t, int64_t>{4, 8}, {0, 5}, {2, 1}, {3, 0}}) {
    StreamingCache cache = MakeCache({n_sink, window});
    EXPECT_EQ(cache.capacity(), n_sink + window + 1);
    for (int64_t t = 0; t < 40; ++t) {
      cache.BeginStep();
      cache.EndStep();
      EXPECT_EQ(cache.CachedTokens(), Expected(t + 1, n_sink, window)) << "after token " << t;
    }
  }
}

TEST(StreamingCache, PositionsAreCachePositionsAndQueryIsLast) {
  StreamingCache cache = MakeCache({2, 3});
  for (int64_t t = 0; t < 12; ++t) {
    cache.BeginStep();
    const int64_t attended = std::min<int64_t>(t + 1, 2 + 3 + 1);
    EXPECT_EQ(cache.attend_len(), attended);
    EXPECT_EQ(cache.query_position().item<int64_t>(), attended - 1);
    // Every attended slot has a distinct position in [0, attended).
    at::Tensor pos = std::get<0>(cache.slot_positions().narrow(0, 0, attended).sort());
    EXPECT_TRUE(pos.equal(at::arange(attended))) << "token " << t;
    cache.EndStep();
  }
}

TEST(StreamingCache, SlotsAreReusedWithoutGrowing) {
  StreamingCache cache = MakeCache({1, 2});
  const void* keys = cache.keys(0).data_ptr();
  std::vector<int64_t> slots;
  for (int t = 0; t < 8; ++t) {
    cache.BeginStep();
    slots.push_back(cache.write_slot().item<int64_t>());
    cache.EndStep();
  }
  EXPECT_EQ(slots, (std::vector<int64_t>{0, 1, 2, 3, 1, 2, 3, 1}));
  EXPECT_EQ(cache.keys(0).data_ptr(), keys);
  EXPECT_EQ(cache.keys(0).size(1), 4);
}

TEST(StreamingCache, FullWindowGrowsToCapacityThenRefuses) {
  StreamingCache cache = MakeCache({4, std::nullopt}, 3);
  for (int t = 0; t < 3; ++t) {
    cache.BeginStep();
    cache.EndStep();
  }
  EXPECT_EQ(cache.CachedTokens(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_THROW(cache.BeginStep(), std::runtime_error);
}

TEST(StreamingCache, StaticShapesMaskEmptySlots) {
  StreamingCache cache(1, 2, 4, {1, 4}, 64, true, at::TensorOptions().dtype(at::kFloat));
  cache.BeginStep();
  EXPECT_EQ(cache.attend_len(), cache.capacity());
  EXPECT_EQ(cache.mask()[0].item<float>(), 0.f);
  EXPECT_TRUE(std::isinf(cache.mask()[1].item<float>()));
}

}  // namespace
}  // namespace orch::worker
