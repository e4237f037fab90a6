// OsError: turns a failed system call's errno into a Status whose code tells a fault of
// the machine (no disk space, no descriptors, no processes, no memory: Status::Resource,
// the sweep should pause, not fail its trials) from everything else (a missing file, a
// file that is not executable: Status::IOError). Pure functions, safe from any thread.
#pragma once

#include <string>

#include "base/status.h"

namespace orch {

// True for ENOSPC, EDQUOT, EMFILE, ENFILE, EAGAIN, ENOMEM.
bool IsResourceErrno(int err);

// "WHAT: strerror(err)" plus, for machine faults, a hint of what to fix.
Status OsError(int err, const std::string& what);

}  // namespace orch
