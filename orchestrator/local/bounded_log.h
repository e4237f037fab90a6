// BoundedLog: worker.log as the orchestrator writes it from the worker's stdout+stderr
// pipe, capped so that a worker spewing gigabytes cannot fill the disk. It keeps the
// head (the first `head_bytes`: how the worker started) and the tail (the last
// `tail_bytes`: how it ended, which classification reads), with one marker line between
// them saying how much was dropped. The file never exceeds head + marker + 2 x tail;
// until the first drop it is an exact copy of the output. Used from one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace orch {

class BoundedLog {
 public:
  static constexpr uint64_t kDefaultHead = 1 << 20;  // 1 MiB
  static constexpr uint64_t kDefaultTail = 4 << 20;  // 4 MiB

  // Creates or appends to `path` (close-on-exec). Errors: Status::Resource for a full
  // disk or no descriptors left, IOError otherwise.
  static StatusOr<std::unique_ptr<BoundedLog>> Open(const std::string& path,
                                                    uint64_t head_bytes = kDefaultHead,
                                                    uint64_t tail_bytes = kDefaultTail);
  ~BoundedLog();
  BoundedLog(const BoundedLog&) = delete;
  BoundedLog& operator=(const BoundedLog&) = delete;

  // Appends worker output. A write error (disk full) is remembered, not retried: the
  // worker keeps running, the log is as complete as the disk allowed.
  void Append(std::string_view data);
  // Leaves the file as head + marker + the last tail_bytes, and closes it.
  Status Finish();

  uint64_t total_bytes() const { return total_; }
  uint64_t dropped_bytes() const { return dropped_; }
  const Status& write_error() const { return error_; }

 private:
  BoundedLog(int fd, uint64_t size, uint64_t head, uint64_t tail)
      : fd_(fd), size_(size), head_(head), tail_(tail) {}
  void Write(std::string_view data);
  void DropMiddle();

  int fd_;
  uint64_t size_;  // bytes in the file now
  uint64_t head_, tail_;
  uint64_t total_ = 0;  // bytes of output ever appended (plus what the file had)
  uint64_t dropped_ = 0;
  Status error_;
};

}  // namespace orch
