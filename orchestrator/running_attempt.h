// RunningAttempt: one claimed trial attempt while its worker runs: writes trial.json,
// spawns the worker, reads its events, enforces the wall-clock and heartbeat timeouts
// (SIGTERM to the group, a grace period, then SIGKILL), and on exit gathers what the
// classification needs. Owned and driven by the scheduler's single thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "orchestrator/classify.h"
#include "orchestrator/subprocess.h"
#include "orchestrator/worker_events.h"
#include "store/records.h"

namespace orch {

using Clock = std::chrono::steady_clock;

struct AttemptLaunch {
  store::Claim claim;
  std::string worker;           // executable
  nlohmann::json inputs;        // absolute input paths for trial.json
  std::string slot;             // "cpu:0", "gpu:1"
  std::optional<std::string> cuda_visible_devices;
  int cpu_threads = 0;  // > 0: exported as ORCH_WORKER_THREADS
  double kill_grace_s = 5;
};

class RunningAttempt {
 public:
  static StatusOr<std::unique_ptr<RunningAttempt>> Start(const AttemptLaunch& launch);

  const store::Claim& claim() const { return launch_.claim; }
  const AttemptLaunch& launch() const { return launch_; }
  const WorkerEvents& events() const { return events_; }
  Subprocess& process() { return *process_; }
  const std::string& log_path() const { return log_path_; }
  double elapsed_s() const;

  // Reads whatever the worker wrote on its event pipe (non-blocking).
  void ReadEvents();
  // Applies timeouts and grace periods; returns the earliest time it needs a call again.
  Clock::time_point CheckDeadlines(Clock::time_point now);
  // Stops the worker for `reason` (SIGTERM to its group now, SIGKILL after the grace).
  void Stop(KillReason reason, double limit_s);
  // Non-blocking: when the worker has exited, returns everything observed of it.
  std::optional<AttemptObservation> TryFinish();

 private:
  explicit RunningAttempt(AttemptLaunch launch) : launch_(std::move(launch)) {}
  AttemptLaunch launch_;
  std::optional<Subprocess> process_;
  WorkerEvents events_;
  std::ofstream events_log_;
  std::string log_path_;
  Clock::time_point started_, last_event_;
  double timeout_s_ = 0, heartbeat_timeout_s_ = 0;
  KillReason killed_for_ = KillReason::kNone;
  double kill_limit_s_ = 0;
  std::optional<Clock::time_point> kill_at_;  // SIGKILL deadline after SIGTERM
};

}  // namespace orch
