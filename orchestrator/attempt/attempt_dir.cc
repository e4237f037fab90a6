#include "orchestrator/attempt/attempt_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/fault_point.h"

namespace orch {
namespace {

Status FromErrno(int err, const std::string& what) {
  std::string m = what + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return Status::Resource(m);
    default:
      return Status::IOError(m);
  }
}

}  // namespace

StatusOr<std::string> CreateAttemptDir(const std::string& runs_dir, const std::string& key,
                                       int number) {
  // Simulates a full disk for the start-failure tests.
  if (FaultHit("attempt_dir_enospc")) return FromErrno(ENOSPC, runs_dir + "/" + key);
  std::string parent = runs_dir + "/" + key;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return FromErrno(ec.value(), parent + ": cannot create");
  std::string base = parent + "/attempt-" + std::to_string(number);
  for (int i = 0; i < 1000; ++i) {
    std::string dir = i == 0 ? base : base + "." + std::to_string(i);
    if (::mkdir(dir.c_str(), 0777) == 0) return dir;
    if (errno != EEXIST) return FromErrno(errno, dir + ": cannot create");
  }
  return Status::Error(base + ": 1000 directories of that name exist already");
}

}  // namespace orch
