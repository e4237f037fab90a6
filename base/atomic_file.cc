#include "base/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/os_error.h"

namespace orch {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return OsError(errno, path + ": " + what);  // a full disk is Status::Resource
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  StatusOr<std::unique_ptr<AtomicFileWriter>> w = AtomicFileWriter::Open(path);
  if (!w.ok()) return w.status();
  if (Status s = (*w)->Append(content); !s.ok()) return s;
  return (*w)->Commit();
}

namespace {
constexpr size_t kWriteBuffer = 1 << 20;  // pieces are small (a trial's line): batch them
}  // namespace

StatusOr<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Open(const std::string& path) {
  // pid + a process-wide counter: unique across processes and across threads.
  static std::atomic<unsigned long> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, std::move(tmp), fd));
}

AtomicFileWriter::AtomicFileWriter(std::string path, std::string tmp, int fd)
    : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

Status AtomicFileWriter::Fail(Status s) {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
    fd_ = -1;
  }
  failed_ = s;
  return s;
}

Status AtomicFileWriter::WriteAll(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Errno("write failed", tmp_));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status AtomicFileWriter::Flush() {
  Status s = WriteAll(buffer_);
  buffer_.clear();
  return s;
}

Status AtomicFileWriter::Append(std::string_view piece) {
  if (!failed_.ok()) return failed_;
  if (fd_ < 0) return Status::Error(path_ + ": written after Commit");
  if (buffer_.size() + piece.size() > kWriteBuffer && !buffer_.empty()) {
    if (Status s = Flush(); !s.ok()) return s;
  }
  if (piece.size() >= kWriteBuffer) return WriteAll(piece);  // large: not copied
  buffer_.append(piece);
  return Status::Ok();
}

Status AtomicFileWriter::Commit() {
  if (!failed_.ok()) return failed_;
  if (fd_ < 0) return Status::Error(path_ + ": committed twice");
  if (Status s = Flush(); !s.ok()) return s;
  const int fd = fd_;
  fd_ = -1;
  // The descriptor is closed whatever fsync says; the first error is the one reported.
  const int synced = ::fsync(fd) == 0 ? 0 : errno;
  const int closed = ::close(fd) == 0 ? 0 : errno;
  if (synced != 0 || closed != 0) {
    Status s = OsError(synced != 0 ? synced : closed,
                       tmp_ + (synced != 0 ? ": fsync failed" : ": close failed"));
    ::unlink(tmp_.c_str());
    return failed_ = s;
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    Status s = Errno("rename failed", path_);
    ::unlink(tmp_.c_str());
    return failed_ = s;
  }
  int dfd = ::open(DirName(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::Error(path + ": read error");
  return ss.str();
}

}  // namespace orch
