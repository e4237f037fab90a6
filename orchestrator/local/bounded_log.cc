#include "orchestrator/local/bounded_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "base/os_error.h"

namespace orch {

StatusOr<std::unique_ptr<BoundedLog>> BoundedLog::Open(const std::string& path, uint64_t head_bytes,
                                                       uint64_t tail_bytes) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return OsError(errno, path + ": cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = OsError(errno, path + ": cannot stat");
    ::close(fd);
    return s;
  }
  std::unique_ptr<BoundedLog> log(
      new BoundedLog(fd, static_cast<uint64_t>(st.st_size), head_bytes, tail_bytes));
  // Bytes already in the file (an appended-to log) count as its head.
  log->total_ = log->size_;
  return log;
}

BoundedLog::~BoundedLog() {
  if (fd_ >= 0) ::close(fd_);
}

void BoundedLog::Write(std::string_view data) {
  while (!data.empty() && error_.ok()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = OsError(n < 0 ? errno : ENOSPC, "worker.log: write failed");
      return;
    }
    size_ += static_cast<uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void BoundedLog::Append(std::string_view data) {
  if (fd_ < 0 || data.empty()) return;
  total_ += data.size();
  Write(data);
  // Rewriting the tail only every tail_ bytes keeps the cost linear in the output.
  if (size_ > head_ + 2 * tail_ + 256) DropMiddle();
}

// Keeps [0, head_) and the file's last tail_ bytes, with a marker in between.
void BoundedLog::DropMiddle() {
  if (!error_.ok() || size_ <= head_ + tail_) return;
  std::string tail(tail_, '\0');
  off_t from = static_cast<off_t>(size_ - tail_);
  size_t got = 0;
  while (got < tail.size()) {
    ssize_t n = ::pread(fd_, tail.data() + got, tail.size() - got, from + got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = OsError(n < 0 ? errno : EIO, "worker.log: read back failed");
      return;
    }
    got += static_cast<size_t>(n);
  }
  dropped_ = total_ - head_ - tail_;
  char marker[256];
  std::snprintf(marker, sizeof(marker),
                "\n[orch: %llu bytes of worker output dropped here; worker.log keeps the "
                "first %llu and the last %llu bytes]\n",
                static_cast<unsigned long long>(dropped_), static_cast<unsigned long long>(head_),
                static_cast<unsigned long long>(tail_));
  if (::ftruncate(fd_, static_cast<off_t>(head_)) != 0) {
    error_ = OsError(errno, "worker.log: truncate failed");
    return;
  }
  size_ = head_;
  Write(marker);
  Write(tail);
}

Status BoundedLog::Finish() {
  if (fd_ < 0) return error_;
  // The marker is < 256 bytes: past head + marker + tail something was dropped.
  if (size_ > head_ + tail_ + 256 || (dropped_ > 0 && size_ > head_ + tail_)) DropMiddle();
  ::close(fd_);
  fd_ = -1;
  return error_;
}

}  // namespace orch
