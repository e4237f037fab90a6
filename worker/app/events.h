// EventSink: the worker's progress channel of docs/protocol.md (JSON lines on events_path).
// Every line is written with one write(2) call, so it is flushed at once and never torn
// on a pipe. Thread-safe: the decode loop and the heartbeat ticker write concurrently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace orch::worker {

class EventSink {
 public:
  // An empty path makes a sink that drops everything (used by tests and --help paths).
  explicit EventSink(const std::string& path);
  ~EventSink();
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  bool ok() const { return fd_ >= 0 || path_.empty(); }
  const std::string& error() const { return error_; }

  void Started(int64_t pid, int protocol);
  void Phase(const std::string& name);
  void Heartbeat(int64_t token, int64_t total);
  void Warning(const std::string& message);
  void Failure(const std::string& outcome, const std::string& message);

  // Seconds since the Unix epoch, as in every event's `t`.
  static double Now();

 private:
  void Emit(nlohmann::json event);

  std::string path_;
  std::string error_;
  int fd_ = -1;
  std::mutex mu_;
};

// Emits a heartbeat every `period_ms` from a background thread while alive, so that long
// phases (loading a large checkpoint, quantizing) never look hung. The decode loop reports
// its progress through set_token(); the ticker repeats the latest value.
class HeartbeatTicker {
 public:
  HeartbeatTicker(EventSink* sink, int period_ms = 500);
  ~HeartbeatTicker();
  void set_progress(int64_t token, int64_t total) {
    token_.store(token);
    total_.store(total);
  }

 private:
  EventSink* sink_;
  int period_ms_;
  std::atomic<int64_t> token_{0};
  std::atomic<int64_t> total_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace orch::worker
