// Start-failure policy: what the scheduler does when an attempt cannot start. When the
// machine is at fault (Status::Resource: a full disk, no descriptors or processes left;
// Status::IOError: the attempt directory cannot be written), the trial is not to
// blame: it goes back to pending, no new trial is claimed, running ones finish and
// `orch run` says why (exit 1). When the worker is at fault (a missing interpreter, a
// file that is not executable), the attempt is an `error` result like any other.
// Pure function, any thread.
#pragma once

#include "base/status.h"

namespace orch {

enum class StartFailure {
  kMachineFault,  // return the trial to pending, stop claiming
  kWorkerFault,   // record an `error` result, go on
};

StartFailure JudgeStartFailure(const Status& status);

}  // namespace orch
