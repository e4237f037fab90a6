// LocalExecutor: runs a sweep's pending trials on a fixed set of slots (one trial per
// GPU, or N on the CPU), behind the Executor seam (executor.h). It claims a trial of its
// run's plan atomically in the store, runs its attempt in a worker process, records the
// classified result through attempt/record.h, and retries transient failures. One
// thread, one poll loop: a worker's exit, an event line or the user's Ctrl-C wakes it at
// once. Progress goes to the RunSink (the printer).
//
// The loop is a sequence of separate steps (local_executor.cc): claim and start (with the
// start-failure policy), wait, handle an interrupt, reap and record, watch `orch cancel`
// (every second) and refresh the ownership lease. Any error on the way (a store error, an
// exception) stops the running workers (SIGTERM, grace, SIGKILL) and records them
// `interrupted`, or leaves them recoverable when the store itself fails; nothing is
// killed silently by a destructor.
#pragma once

#include <vector>

#include "orchestrator/executor.h"
#include "orchestrator/local/running_attempt.h"
#include "orchestrator/local/slots.h"

namespace orch {

struct LocalOptions {
  std::vector<Slot> slots;
  double kill_grace_s = 5;        // between SIGTERM and SIGKILL when stopping a worker
  double cancel_check_s = 1;      // how often `orch cancel` (and --study) is looked for
};

class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(LocalOptions options) : options_(std::move(options)) {}
  // On error, the running workers were stopped before it returns.
  StatusOr<RunOutcome> Run(store::Store& db, const RunContext& ctx, RunSink& sink) override;

 private:
  LocalOptions options_;
};

}  // namespace orch
