// Handoff<T>: values passed from one thread to another, in order. The producer Pushes and
// finally Closes; the consumer Takes everything pushed so far, waiting while nothing is
// there, until the handoff is closed and empty. Each push and take is one lock, so the
// producer (the Store's reading thread in `orch report`) pays ~a lock per value; what it
// wrote before a Push is visible to the consumer after the Take that returns the value.
#pragma once

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace orch::report {

template <typename T>
class Handoff {
 public:
  void Push(T value) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
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
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !values_.empty(); });
    std::swap(*out, values_);
    return !out->empty();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<T> values_;
  bool closed_ = false;
};

}  // namespace orch::report
