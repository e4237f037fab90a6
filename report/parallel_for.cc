#include "report/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace orch::report {

void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::exception_ptr threw;
  std::mutex threw_mutex;
  auto work = [&] {
    try {
      for (size_t i = next++; i < n; i = next++) fn(i);
    } catch (...) {
      next = n;  // the other threads stop at their next index
      std::lock_guard<std::mutex> lock(threw_mutex);
      if (!threw) threw = std::current_exception();
    }
  };
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t n_threads = std::min(cores, std::max<size_t>(n, 1));
  std::vector<std::thread> threads;
  threads.reserve(n_threads - 1);
  for (size_t i = 1; i < n_threads; ++i) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no thread to be had: the threads started (at least this one) do the rest
    }
  }
  work();
  for (std::thread& t : threads) t.join();
  if (threw) std::rethrow_exception(threw);
}

bool Beside(const std::function<void()>& side, const std::function<void()>& main) {
  std::exception_ptr side_threw;
  std::thread thread;
  try {
    thread = std::thread([&] {
      try {
        side();
      } catch (...) {
        side_threw = std::current_exception();
      }
    });
  } catch (const std::system_error&) {
    return false;
  }
  std::exception_ptr main_threw;
  try {
    main();
  } catch (...) {
    main_threw = std::current_exception();
  }
  thread.join();
  if (main_threw) std::rethrow_exception(main_threw);
  if (side_threw) std::rethrow_exception(side_threw);
  return true;
}

}  // namespace orch::report
