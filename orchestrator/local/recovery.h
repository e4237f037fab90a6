// Recovery: what `orch run` does at start with attempts left running by orchestrators
// that are gone (ownership.h decides who is gone). For each such attempt:
//   1. its worker, if still running on this host and in this PID namespace (same pid
//      and start time), is stopped with its process group: SIGTERM, `kill_grace_s`,
//      SIGKILL, before its trial can run again;
//   2. a complete result.json the worker left in the attempt directory (it finished
//      while orch was dead) is classified and recorded as the attempt's result;
//   3. otherwise the attempt is recorded `interrupted` and its trial is pending again
//      (which never uses up the trial's retries).
// Attempts of live owners (fresh lease) are left alone, and so are attempts with a SLURM
// job id: the SLURM executor judges those by SLURM's state. Scheduler thread.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace orch {

struct RecoverySummary {
  int interrupted = 0;     // recorded interrupted, trial pending again
  int ingested = 0;        // result.json recorded instead of a rerun
  int workers_stopped = 0; // orphaned workers stopped on this host
};

StatusOr<RecoverySummary> RecoverOrphans(store::Store& db, double kill_grace_s);

}  // namespace orch
