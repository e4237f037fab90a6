#include "orchestrator/attempt/attempt_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/os_error.h"

namespace orch {
namespace {

std::string In(const std::string& dir, const char* name) { return dir + "/" + name; }

// An open descriptor of a regular file at `path` (never a symlink, FIFO or device), -1
// otherwise; `*size` its size.
int OpenRegular(const std::string& path, off_t* size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return -1;
  }
  *size = st.st_size;
  return fd;
}

// Reads up to `n` bytes from `offset`; false on a read error. Stops at end of file (the
// file may have shrunk since fstat).
bool ReadAt(int fd, off_t offset, size_t n, std::string* out) {
  out->assign(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out->data() + got, n - got, offset + static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  out->resize(got);
  return true;
}

}  // namespace

std::string TrialFilePath(const std::string& d) { return In(d, kTrialFileName); }
std::string EventsFilePath(const std::string& d) { return In(d, kEventsFileName); }
std::string ResultFilePath(const std::string& d) { return In(d, kResultFileName); }
std::string WorkerLogPath(const std::string& d) { return In(d, kWorkerLogFileName); }
std::string StartedFilePath(const std::string& d) { return In(d, kStartedFileName); }
std::string ExitStatusFilePath(const std::string& d) { return In(d, kExitStatusFileName); }
std::string AbandonedFilePath(const std::string& d) { return In(d, kAbandonedFileName); }
std::string OrchKillFilePath(const std::string& d) { return In(d, kOrchKillFileName); }

std::optional<std::string> ReadAttemptFile(const std::string& path, size_t max_bytes) {
  off_t size = 0;
  int fd = OpenRegular(path, &size);
  if (fd < 0) return std::nullopt;
  // Sized by the file, capped; one byte more than fstat said, so that a file that grew
  // past a cap since is still seen to be over it.
  size_t want = std::min(max_bytes, static_cast<size_t>(size) + 1);
  std::string data;
  bool ok = ReadAt(fd, 0, want, &data);
  ::close(fd);
  if (!ok) return std::nullopt;
  return data;
}

std::optional<std::string> ReadAttemptFileTail(const std::string& path, size_t max_bytes,
                                               bool* cut) {
  off_t size = 0;
  int fd = OpenRegular(path, &size);
  if (fd < 0) return std::nullopt;
  size_t n = std::min(max_bytes, static_cast<size_t>(size));
  off_t from = size - static_cast<off_t>(n);
  std::string data;
  bool ok = ReadAt(fd, from, n, &data);
  ::close(fd);
  if (!ok) return std::nullopt;
  if (cut) *cut = from > 0;
  return data;
}

bool AttemptFileExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status WriteAttemptMarker(const std::string& path, const std::string& text) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) (void)::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC,
                  0644);
  if (fd < 0) return OsError(errno, path + ": cannot write");
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      ::close(fd);
      return OsError(e, path + ": cannot write");
    }
    done += static_cast<size_t>(w);
  }
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return OsError(e, path + ": cannot sync");
  return Status::Ok();
}

}  // namespace orch
