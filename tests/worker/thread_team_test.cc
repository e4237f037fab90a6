// RunTeam (worker/cpu_kernels/thread_team.h): the members really run at once on distinct
// threads (the worker's thread count, ATen's pool), the barrier orders phases, the shares
// cover a range once, a member's exception comes back to the caller without a hang, and a
// team of one runs inline.
#include "worker/cpu_kernels/thread_team.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace orch::worker {
namespace {

// Sets ATen's thread count for one test and restores it.
class Threads {
 public:
  explicit Threads(int n) : before_(at::get_num_threads()) { at::set_num_threads(n); }
  ~Threads() { at::set_num_threads(before_); }

 private:
  int before_;
};

TEST(ThreadTeam, MembersRunAtOnceOnDistinctThreads) {
  for (int n : {2, 3}) {
    Threads threads(n);
    std::mutex mutex;
    std::set<std::thread::id> ids;
    std::vector<int> sizes;
    std::vector<int> phase(static_cast<size_t>(n), 0);
    std::atomic<int> mismatches{0};
    RunTeam(n, [&](const TeamMember& tm) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        ids.insert(std::this_thread::get_id());
        sizes.push_back(tm.size());
      }
      for (int round = 1; round <= 50; ++round) {
        phase[static_cast<size_t>(tm.id())] = round;
        tm.Barrier();  // every member has written this round before anyone reads it
        for (int v : phase)
          if (v != round) ++mismatches;
        tm.Barrier();  // nobody writes the next round before everyone has read this one
      }
    });
    EXPECT_EQ(static_cast<int>(ids.size()), n) << "threads " << n;
    EXPECT_EQ(sizes, std::vector<int>(static_cast<size_t>(n), n));
    EXPECT_EQ(mismatches.load(), 0);
  }
}

TEST(ThreadTeam, SharesCoverTheRangeOnceInAlignedChunks) {
  for (int size : {1, 2, 3, 5})
    for (int64_t n : {0, 1, 15, 16, 17, 512, 1536, 50304})
      for (int64_t align : {1, 16}) {
        int64_t next = 0;
        for (int id = 0; id < size; ++id) {
          const auto [b, e] = TeamMember(nullptr, id, size).Share(n, align);
          EXPECT_EQ(b, next) << size << " " << n << " " << align;
          EXPECT_LE(b, e);
          if (e < n) EXPECT_EQ(e % align, 0);
          next = e;
        }
        EXPECT_EQ(next, std::max<int64_t>(n, 0)) << size << " " << n << " " << align;
      }
  // Balanced: 512 rows in chunks of 16 over 2 members: 256 each.
  EXPECT_EQ(TeamMember(nullptr, 1, 2).Share(512, 16), (std::pair<int64_t, int64_t>{256, 512}));
}

TEST(ThreadTeam, AMembersExceptionReachesTheCallerWithoutAHang) {
  Threads threads(2);
  for (int thrower : {0, 1}) {
    std::atomic<int> after_barrier{0};
    try {
      RunTeam(2, [&](const TeamMember& tm) {
        if (tm.id() == thrower) throw std::runtime_error("member failed");
        tm.Barrier();  // the other member must not wait here forever
        ++after_barrier;
      });
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "member failed");
    }
    EXPECT_EQ(after_barrier.load(), 0);
  }
  // The team still works afterwards.
  std::atomic<int> ran{0};
  RunTeam(2, [&](const TeamMember& tm) {
    tm.Barrier();
    ++ran;
  });
  EXPECT_EQ(ran.load(), 2);
}

TEST(ThreadTeam, OneMemberOrNestedRunsInlineAsATeamOfOne) {
  Threads threads(2);
  const std::thread::id caller = std::this_thread::get_id();
  RunTeam(1, [&](const TeamMember& tm) {
    EXPECT_EQ(tm.size(), 1);
    EXPECT_EQ(std::this_thread::get_id(), caller);
    tm.Barrier();  // a no-op
  });
  std::atomic<int> inner_runs{0};
  RunTeam(2, [&](const TeamMember&) {
    RunTeam(2, [&](const TeamMember& inner) {
      EXPECT_EQ(inner.size(), 1);
      ++inner_runs;
    });
  });
  EXPECT_EQ(inner_runs.load(), 2);
}

}  // namespace
}  // namespace orch::worker
