// Scheduler: runs a sweep's pending trials on a fixed set of slots (one trial per GPU,
// or N on the CPU). It claims a trial atomically in the store, runs its attempt in a
// worker process, stores the classified result in one transaction, and retries
// transient failures. One thread, one poll loop: a worker's exit, an event line or the
// user's Ctrl-C wakes it at once. Progress goes to a ProgressSink (the printer).
//
// The loop is a sequence of separate steps (scheduler.cc): claim and start (with the
// start-failure policy), wait, handle an interrupt, reap and record (with the retry
// policy, retry_policy.h), refresh the ownership lease. Any error on the way (a store
// error, an exception) stops the running workers (SIGTERM, grace, SIGKILL) and records
// them `interrupted`, or leaves them recoverable when the store itself fails; nothing is
// killed silently by a destructor.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/local/running_attempt.h"
#include "orchestrator/local/slots.h"
#include "store/store.h"

namespace orch {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void OnStart(const store::Claim& claim, const std::string& slot) = 0;
  // Called about once a second and on every event, with the attempts now running.
  virtual void OnTick(const std::vector<const RunningAttempt*>& running) = 0;
  virtual void OnFinish(const store::Claim& claim, const store::AttemptResult& result) = 0;
};

struct SchedulerOptions {
  int64_t sweep_id = 0;
  int64_t run_id = 0;
  store::Owner owner;
  std::vector<Slot> slots;
  std::string worker;  // the default (orch) worker's executable
  // name -> executable for the config key `worker` of each cell; a cell naming none of
  // these runs `worker` when its worker is orch, else it ends `error`.
  std::map<std::string, std::string> workers;
  nlohmann::json inputs = nlohmann::json::object();  // for trial.json
  std::string runs_dir;                               // results/runs
  double kill_grace_s = 5;
  int interrupt_fd = -1;  // becomes readable when the user asks to stop (Ctrl-C)
  double lease_s = 60;          // ownership lease length (ownership.h)
  double lease_refresh_s = 10;  // how often the loop refreshes it
};

struct SchedulerResult {
  int attempts = 0;
  bool interrupted = false;
  // Set when the machine failed a worker's start (a full disk, no descriptors left):
  // no new trial was claimed after it, its trial is pending again, running ones
  // finished. What happened, for the user.
  std::string machine_fault;
};

// On error, the running workers were stopped before it returns.
StatusOr<SchedulerResult> RunSweep(store::Store& db, const SchedulerOptions& opts,
                                   ProgressSink& progress);

}  // namespace orch
