#include "orchestrator/local/start_policy.h"

namespace orch {

StartFailure JudgeStartFailure(const Status& status) {
  if (status.IsResource() || status.code() == Status::Code::kIOError) {
    return StartFailure::kMachineFault;
  }
  return StartFailure::kWorkerFault;
}

}  // namespace orch
