#include "report/ordered_pieces.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace orch::report {
namespace {

// Piece i's text: its number and some bytes that depend on it (pieces of unequal cost).
void RenderNumbered(size_t i, std::string& text) {
  text += std::to_string(i) + ":";
  for (size_t k = 0; k < (i * 7919) % 2000; ++k) text += static_cast<char>('a' + (i + k) % 26);
  text += ";";
}

std::string Sequential(size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) RenderNumbered(i, text);
  return text;
}

TEST(OrderedPieces, EmitsEveryPieceInOrderOnTheCallingThread) {
  for (size_t count : {0u, 1u, 2u, 3u, 5u, 1000u}) {
    std::string joined;
    std::vector<std::thread::id> emitters;
    std::atomic<int> held{0};  // rendered, not yet emitted
    std::atomic<int> most_held{0};
    RenderPiecesInOrder(
        count,
        [&](size_t i, std::string& text) {
          EXPECT_TRUE(text.empty());
          RenderNumbered(i, text);
          const int now = ++held;
          int seen = most_held.load();
          while (now > seen && !most_held.compare_exchange_weak(seen, now)) {
          }
        },
        [&](std::string_view text) {
          joined += text;
          emitters.push_back(std::this_thread::get_id());
          --held;
        });
    EXPECT_EQ(joined, Sequential(count)) << count;
    EXPECT_EQ(emitters.size(), count);
    for (const std::thread::id& id : emitters) EXPECT_EQ(id, std::this_thread::get_id());
    EXPECT_LE(most_held.load(), static_cast<int>(kPiecesInFlight)) << count;
  }
}

TEST(OrderedPieces, RendersOnTwoThreads) {
  // Pieces 0 and 1 each wait until the other has started: only two threads get past.
  std::mutex mu;
  std::condition_variable started;
  int starts = 0;
  std::set<std::thread::id> renderers;
  std::string joined;
  RenderPiecesInOrder(
      6,
      [&](size_t i, std::string& text) {
        std::unique_lock<std::mutex> lock(mu);
        renderers.insert(std::this_thread::get_id());
        if (i < 2) {
          ++starts;
          started.notify_all();
          EXPECT_TRUE(started.wait_for(lock, std::chrono::seconds(30), [&] { return starts == 2; }))
              << "pieces 0 and 1 were not rendered at the same time";
        }
        lock.unlock();
        RenderNumbered(i, text);
      },
      [&](std::string_view text) { joined += text; });
  EXPECT_EQ(renderers.size(), 2u);
  EXPECT_EQ(joined, Sequential(6));
}

TEST(OrderedPieces, AnExceptionFromEitherThreadReachesTheCaller) {
  for (const bool on_caller : {true, false}) {
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<bool> thrown{false};
    std::vector<size_t> emitted;
    try {
      RenderPiecesInOrder(
          200,
          [&](size_t i, std::string& text) {
            const bool here = std::this_thread::get_id() == caller;
            // The other thread slowed down, so that this one renders pieces from 20 on.
            if (here != on_caller) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (i >= 20 && here == on_caller && !thrown.exchange(true)) {
              throw std::runtime_error("piece " + std::to_string(i));
            }
            text = std::to_string(i);
          },
          [&](std::string_view text) { emitted.push_back(std::stoul(std::string(text))); });
      ADD_FAILURE() << "nothing thrown, on_caller " << on_caller;
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(thrown.load());
      const size_t failed = std::stoul(std::string(e.what()).substr(6));
      // Emitted: pieces in order, none from the failed one on.
      for (size_t k = 0; k < emitted.size(); ++k) EXPECT_EQ(emitted[k], k);
      EXPECT_LE(emitted.size(), failed) << on_caller;
    }
  }
}

TEST(OrderedPieces, AnExceptionFromEmitStopsTheHelper) {
  std::atomic<size_t> rendered{0};
  EXPECT_THROW(RenderPiecesInOrder(
                   1000,
                   [&](size_t i, std::string& text) {
                     ++rendered;
                     text = std::to_string(i);
                   },
                   [&](std::string_view text) {
                     if (text == "3") throw std::runtime_error("disk full");
                   }),
               std::runtime_error);
  // The helper was joined (no std::terminate) and rendered at most a few pieces ahead.
  EXPECT_LE(rendered.load(), 4 + kPiecesInFlight);
}

}  // namespace
}  // namespace orch::report
