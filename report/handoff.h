// Handoff<T>: values passed from one thread to another, in order, at most `capacity`
// waiting at a time. The producer Pushes (waiting while `capacity` values wait) and finally
// Closes; the consumer Takes everything pushed so far, waiting while nothing is there,
// until the handoff is closed and empty, and Abandons it when it stops taking (then Push
// drops its value and never waits). Each push and take is one lock, so the producer (the
// Store's reading thread in `orch report`) pays ~a lock per value; what it wrote before a
// Push is visible to the consumer after the Take that returns the value. The bound keeps
// a fast producer from holding what a slow consumer has not yet freed (in `orch report`,
// the latencies of attempts waiting to be summarised).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace orch::report {

template <typename T>
class Handoff {
 public:
  explicit Handoff(size_t capacity = static_cast<size_t>(-1)) : capacity_(capacity) {}

  void Push(T value) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      room_.wait(lock, [&] { return abandoned_ || values_.size() < capacity_; });
      if (abandoned_) return;
      values_.push_back(std::move(value));
    }
    ready_.notify_one();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }
  // Replaces *out with the values pushed since the last take, in push order; waits while
  // there are none. False (and *out empty) once closed with nothing left.
  bool Take(std::vector<T>* out) {
    out->clear();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [&] { return closed_ || !values_.empty(); });
      std::swap(*out, values_);
    }
    room_.notify_all();
    return !out->empty();
  }
  // The consumer takes no more: waiting and later pushes return at once, values dropped.
  void Abandon() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      abandoned_ = true;
      values_.clear();
    }
    room_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::vector<T> values_;
  bool closed_ = false;
  bool abandoned_ = false;
};

}  // namespace orch::report
