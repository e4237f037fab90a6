// Record: the one path by which a finished attempt becomes its row in the store, used by
// both executors, the local recovery and the SLURM adoption (executor.h). A verdict is
// either a classified result (classify.h) or an interrupt:
//   result     -> terminal? (retry_policy.h: the outcome, why it was killed, the try
//                 number and the cell's `retries`) -> Store::FinishAttempt
//   interrupt  -> Store::InterruptAttempt: the trial is pending again, no try used
// An attempt another orch already recorded (a run that outlived its lease was taken
// over) is `superseded`: nothing is written and the caller reports nothing.
#pragma once

#include <string>

#include "orchestrator/attempt/classify.h"
#include "store/store.h"

namespace orch {

struct AttemptVerdict {
  bool interrupt = false;       // record `interrupted` (trial pending again, no try used)
  std::string interrupt_reason;
  store::AttemptResult result;  // when !interrupt: everything but attempt_id and terminal
  KillReason killed_for = KillReason::kNone;  // for the retry policy

  static AttemptVerdict Interrupted(std::string reason);
  // A worker's end as the local executor observed it: Classify(obs).
  static AttemptVerdict Observed(const AttemptObservation& obs);
};

// The attempt a verdict is about. try_number and config_json are read only for a result
// (the retry budget); an interrupt needs the id alone.
struct AttemptRef {
  int64_t attempt_id = 0;
  int try_number = 1;
  std::string config_json = "{}";  // the cell's settings (`retries`)
};

struct Recorded {
  bool superseded = false;     // another orch recorded it first: nothing was written
  store::AttemptResult result;  // what was recorded (outcome "interrupted" for an interrupt)
};

StatusOr<Recorded> RecordVerdict(store::Store& db, const AttemptRef& attempt,
                                 const AttemptVerdict& verdict);

}  // namespace orch
