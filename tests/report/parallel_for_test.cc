#include "report/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <stdexcept>
#include <vector>

namespace orch::report {
namespace {

TEST(ParallelFor, CallsEveryIndexExactlyOnce) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{10007}}) {
    std::vector<std::atomic<int>> calls(n);
    ParallelFor(n, [&](size_t i) { calls[i]++; });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(calls[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ParallelFor, AnExceptionReachesTheCallerAndStopsTheOtherIndexes) {
  const size_t n = 1000000;
  std::atomic<size_t> calls{0};
  EXPECT_THROW(ParallelFor(n,
                           [&](size_t i) {
                             calls++;
                             if (i == 3) throw std::runtime_error("cell 3");
                           }),
               std::runtime_error);
  // The thread that threw stopped at once, the others at their next index.
  EXPECT_LT(calls.load(), n);
}

// The exception reaching the caller is the one a call threw (its type and message), not
// a stand-in: the caller can tell bad_alloc from a bad value.
TEST(ParallelFor, TheExceptionACallThrewIsTheOneRethrown) {
  try {
    ParallelFor(4, [](size_t i) {
      if (i == 2) throw std::out_of_range("cell 2");
    });
    FAIL() << "nothing thrown";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "cell 2");
  }
}

TEST(Beside, RunsSideOnAnotherThreadAndReturnsOnceBothHave) {
  std::thread::id side_id, main_id;
  std::atomic<bool> side_done{false};
  const bool both = Beside(
      [&] {
        side_id = std::this_thread::get_id();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        side_done = true;
      },
      [&] { main_id = std::this_thread::get_id(); });
  ASSERT_TRUE(both);
  EXPECT_TRUE(side_done);
  EXPECT_EQ(main_id, std::this_thread::get_id());
  EXPECT_NE(side_id, main_id);
}

TEST(Beside, ExceptionsOfEitherReachTheCallerAfterTheJoin) {
  std::atomic<bool> side_done{false};
  EXPECT_THROW(static_cast<void>(Beside(
                   [&] {
                     std::this_thread::sleep_for(std::chrono::milliseconds(50));
                     side_done = true;
                   },
                   [] { throw std::runtime_error("main"); })),
               std::runtime_error);
  EXPECT_TRUE(side_done);  // joined before the rethrow
  EXPECT_THROW(static_cast<void>(Beside([] { throw std::logic_error("side"); }, [] {})),
               std::logic_error);
}

}  // namespace
}  // namespace orch::report
