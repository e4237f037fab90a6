#include "base/os_error.h"

#include <cerrno>
#include <cstring>

namespace orch {

bool IsResourceErrno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
    case ENOMEM:
      return true;
    default:
      return false;
  }
}

Status OsError(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::Resource(message + " (free disk space or raise the quota, then resume)");
    case EMFILE:
      return Status::Resource(message +
                              " (raise the descriptor limit, `ulimit -n`, or run fewer "
                              "trials at once, then resume)");
    case ENFILE:
      return Status::Resource(message +
                              " (the system's file table is full; close programs "
                              "or raise fs.file-max, then resume)");
    case EAGAIN:
      return Status::Resource(message +
                              " (the process limit is reached, `ulimit -u`; stop "
                              "other programs or run fewer trials at once, then "
                              "resume)");
    case ENOMEM:
      return Status::Resource(message +
                              " (the machine is out of memory; run fewer trials at "
                              "once, then resume)");
    default:
      return Status::IOError(message);
  }
}

}  // namespace orch
