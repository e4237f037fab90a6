// RunningAttempt: one claimed trial attempt while its worker runs: writes trial.json,
// spawns the worker, copies its output into a capped worker.log and its events into
// events.jsonl, enforces the wall-clock and heartbeat timeouts (SIGTERM to the group, a
// grace period, then SIGKILL), and on exit gathers what the classification needs.
// Owned and driven by the scheduler's single thread.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/local/bounded_log.h"
#include "orchestrator/attempt/classify.h"
#include "orchestrator/local/subprocess.h"
#include "orchestrator/attempt/worker_events.h"
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
  // A gap longer than this between two CheckDeadlines calls means orch itself was not
  // running (SIGSTOP, Ctrl-Z, a terminal paused with XOFF, a suspended VM): the loop
  // otherwise calls it at least once a second.
  static constexpr double kStallGapS = 3;

  // Errors: Status::Resource when the machine is short of something (disk full while
  // writing trial.json or opening the logs, no descriptors, no processes, no memory):
  // the caller should stop claiming and leave the trial pending. Any other error (the
  // worker is missing or not executable) belongs to this trial.
  static StatusOr<std::unique_ptr<RunningAttempt>> Start(const AttemptLaunch& launch);
  ~RunningAttempt();

  const store::Claim& claim() const { return launch_.claim; }
  const AttemptLaunch& launch() const { return launch_; }
  const WorkerEvents& events() const { return events_; }
  Subprocess& process() { return *process_; }
  const std::string& log_path() const { return log_path_; }
  double elapsed_s() const;

  // Every descriptor the scheduler's poll should watch for this attempt: the exit
  // notification, the event pipe and the output pipe (a worker writing much output
  // blocks until orch drains it).
  std::vector<int> PollFds() const;
  // Reads whatever the worker wrote on its event and output pipes (non-blocking).
  void ReadEvents();
  // Drains the pipes, then applies timeouts and grace periods; returns the earliest time
  // it needs a call again. A heartbeat deadline is judged only on events orch has read,
  // and one that expired while orch itself was stalled gets a fresh grace period.
  Clock::time_point CheckDeadlines(Clock::time_point now);
  // Stops the worker for `reason` (SIGTERM to its group now, SIGKILL after the grace).
  void Stop(KillReason reason, double limit_s);
  // Whether Stop was called (a second Stop for kInterrupted kills at once).
  bool stopping() const { return killed_for_ != KillReason::kNone; }
  // Non-blocking: when the worker has exited, returns everything observed of it.
  std::optional<AttemptObservation> TryFinish();

 private:
  explicit RunningAttempt(AttemptLaunch launch) : launch_(std::move(launch)) {}
  void ReadOutput();
  bool ReadPipes();  // true when an event arrived
  AttemptLaunch launch_;
  std::optional<Subprocess> process_;
  WorkerEvents events_;
  int events_log_fd_ = -1;  // events.jsonl, O_CLOEXEC
  std::unique_ptr<BoundedLog> log_;
  std::string log_path_;
  Clock::time_point started_, last_event_;
  std::optional<Clock::time_point> last_check_;
  double timeout_s_ = 0, heartbeat_timeout_s_ = 0;
  KillReason killed_for_ = KillReason::kNone;
  double kill_limit_s_ = 0;
  std::optional<Clock::time_point> kill_at_;  // SIGKILL deadline after SIGTERM
};

}  // namespace orch
