// Handoff (report/handoff.h): values in order across threads, a bounded wait, and a
// consumer that gives up never leaves the producer waiting.
#include "report/handoff.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace orch::report {
namespace {

TEST(Handoff, ValuesArriveInOrderUntilClosed) {
  Handoff<int> h;
  std::vector<int> got;
  std::thread consumer([&] {
    std::vector<int> batch;
    while (h.Take(&batch)) got.insert(got.end(), batch.begin(), batch.end());
  });
  for (int i = 0; i < 10000; ++i) h.Push(i);
  h.Close();
  consumer.join();
  ASSERT_EQ(got.size(), 10000u);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(got[i], i);
  std::vector<int> after{7};
  EXPECT_FALSE(h.Take(&after));
  EXPECT_TRUE(after.empty());
}

TEST(Handoff, APushWaitsWhileCapacityValuesWait) {
  Handoff<int> h(/*capacity=*/2);
  h.Push(1);
  h.Push(2);
  std::atomic<bool> third_pushed{false};
  std::thread producer([&] {
    h.Push(3);
    third_pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(third_pushed);  // two wait: the third push waits for a take
  std::vector<int> batch;
  ASSERT_TRUE(h.Take(&batch));
  EXPECT_EQ(batch, (std::vector<int>{1, 2}));
  producer.join();
  EXPECT_TRUE(third_pushed);
  h.Close();  // a broken bound fails below instead of waiting
  ASSERT_TRUE(h.Take(&batch));
  EXPECT_EQ(batch, (std::vector<int>{3}));
}

TEST(Handoff, AbandonReleasesAWaitingProducerAndDropsLaterValues) {
  Handoff<int> h(/*capacity=*/1);
  h.Push(1);
  std::thread producer([&] {
    for (int i = 2; i < 100; ++i) h.Push(i);  // would wait forever without a consumer
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  h.Abandon();
  producer.join();
  h.Close();
  std::vector<int> batch;
  EXPECT_FALSE(h.Take(&batch));
}

}  // namespace
}  // namespace orch::report
