// OutcomeClass: how a trial attempt ended. A failure is a result: `nan`, `oom`,
// `blocked` and the rest are stored and reported like `ok`. The one list of classes,
// their names, and which of them a retry may cure. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

enum class OutcomeClass {
  kOk,           // the trial produced its measurements
  kNan,          // numerical failure: non-finite logits (a result, not a crash)
  kOom,          // out of memory (device or host)
  kCudaError,    // a CUDA error other than OOM
  kBlocked,      // unsupported configuration or missing kernel/dependency
  kCrash,        // killed by a signal
  kError,        // non-zero exit with a message
  kTimeout,      // exceeded the trial's wall-clock timeout
  kHung,         // stopped sending events for heartbeat_timeout seconds
  kInterrupted,  // the user or a dead orchestrator stopped it
};

std::string_view OutcomeName(OutcomeClass c);
std::optional<OutcomeClass> ParseOutcome(std::string_view name);
const std::vector<OutcomeClass>& AllOutcomes();

// Classes a retry may cure (crash, hung, interrupted, cuda_error); never nan, oom, blocked.
bool IsTransient(OutcomeClass c);

}  // namespace orch
