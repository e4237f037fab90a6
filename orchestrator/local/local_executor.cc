#include "orchestrator/local/local_executor.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <memory>

#include "base/fault_point.h"
#include "orchestrator/attempt/attempt_dir.h"
#include "orchestrator/attempt/ownership.h"
#include "orchestrator/attempt/record.h"
#include "orchestrator/attempt/retry_policy.h"
#include "orchestrator/local/start_policy.h"
#include "orchestrator/attempt/worker_choice.h"

namespace orch {
namespace {

std::chrono::milliseconds Ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

// One sweep's run loop. Each step below is one concern; Run() only sequences them and
// routes every failure through Abort(), which stops what is running before returning.
class SweepLoop {
 public:
  SweepLoop(store::Store& db, const RunContext& ctx, const LocalOptions& local, RunSink& sink)
      : db_(db), ctx_(ctx), local_(local), progress_(sink), running_(local.slots.size()) {
    next_lease_ = Clock::now() + Ms(ctx_.lease_refresh_s);
    next_cancel_check_ = Clock::now() + Ms(local_.cancel_check_s);
  }

  StatusOr<RunOutcome> Run() {
    Status s;
    try {
      s = Loop();
    } catch (const std::exception& e) {
      s = Status::Error(std::string("internal error: ") + e.what());
    } catch (...) {
      s = Status::Error("internal error");
    }
    if (!s.ok()) return Abort(s);
    return result_;
  }

 private:
  Status Loop() {
    while (true) {
      if (Status s = FillSlots(); !s.ok()) return s;
      if (RunningCount() == 0) return Status::Ok();
      if (Status s = WaitForActivity(); !s.ok()) return s;
      if (InterruptRequested()) Interrupt();
      if (Status s = ReapFinished(); !s.ok()) return s;
      if (Status s = WatchCancel(); !s.ok()) return s;
      if (Status s = RenewLease(); !s.ok()) return s;
    }
  }

  size_t RunningCount() const {
    return static_cast<size_t>(std::count_if(running_.begin(), running_.end(),
                                             [](const auto& r) { return r != nullptr; }));
  }

  bool Claiming() const { return !stopping_ && !exhausted_ && result_.machine_fault.empty(); }

  // Step 1, claiming: fill free slots with new attempts.
  Status FillSlots() {
    for (size_t i = 0; i < running_.size() && Claiming();) {
      if (running_[i]) {
        ++i;
        continue;
      }
      // A cancel is checked before every claim (F1): the trials `orch cancel` just made
      // pending again must not be claimed by this very loop.
      if (Status s = CheckCancel(); !s.ok()) return s;
      if (!Claiming()) break;
      auto claim = db_.ClaimNext(ctx_.sweep_id, ctx_.run_id, ctx_.owner, local_.slots[i].name,
                                 [&](const std::string& key, int n) {
                                   return CreateAttemptDir(runs_dir_, key, n);
                                 });
      if (!claim.ok()) {
        // The attempt directory could not be made: the claim was rolled back and the
        // trial is still pending.
        if (claim.status().code() != Status::Code::kBusy &&
            JudgeStartFailure(claim.status()) == StartFailure::kMachineFault) {
          result_.machine_fault = claim.status().message();
          break;
        }
        return claim.status();
      }
      if (!claim->has_value()) {
        exhausted_ = true;
        break;
      }
      FaultPoint("after_claim");
      if (Status s = Start(i, **claim); !s.ok()) return s;
      if (!running_[i]) continue;  // did not start: the slot stays free
      ++i;
    }
    return Status::Ok();
  }

  // The executable of the cell's worker (worker_choice.h).
  StatusOr<std::string> WorkerFor(const store::Claim& claim) const {
    return WorkerForConfig(claim.config_json, ctx_.worker, ctx_.workers);
  }

  // Step 2, starting, with the start-failure policy (start_policy.h).
  Status Start(size_t i, const store::Claim& claim) {
    const Slot& slot = local_.slots[i];
    StatusOr<std::string> worker = WorkerFor(claim);
    AttemptLaunch launch{claim, worker.ok() ? *worker : "", ctx_.inputs, slot.name,
                         slot.cuda_visible_devices, slot.cpu_threads, local_.kill_grace_s};
    auto started = worker.ok() ? RunningAttempt::Start(launch)
                               : StatusOr<std::unique_ptr<RunningAttempt>>(worker.status());
    if (!started.ok()) {
      if (JudgeStartFailure(started.status()) == StartFailure::kMachineFault) {
        // Not the trial's fault: pending again, and no new claims on this machine.
        result_.machine_fault = started.status().message();
        return db_.InterruptAttempt(claim.attempt_id,
                                    "the worker could not start: " + started.status().message());
      }
      // The worker could not even start: a result like any other, not a lost trial
      // (`error` is never retried: retry_policy.h).
      AttemptVerdict v;
      v.result.outcome = "error";
      v.result.reason = started.status().message();
      progress_.OnStart(claim, slot.name);
      return RecordEnd(claim, slot.name, v);
    }
    running_[i] = std::move(started).value();
    RunningAttempt& a = *running_[i];
    int64_t pid = a.process().pid();
    FaultPoint("before_worker_recorded");
    if (Status s = db_.SetAttemptWorker(claim.attempt_id, a.log_path(), pid,
                                        ProcessStartTicks(pid).value_or(0));
        !s.ok()) {
      return s;
    }
    FaultPoint("after_spawn");
    progress_.OnStart(claim, slot.name);
    return Status::Ok();
  }

  // Step 3: wait for an exit, an event, Ctrl-C, the next deadline or lease refresh.
  Status WaitForActivity() {
    fds_.clear();
    if (ctx_.interrupt_fd >= 0) fds_.push_back({ctx_.interrupt_fd, POLLIN, 0});
    Clock::time_point now = Clock::now();
    Clock::time_point wake =
        std::min({now + std::chrono::seconds(1), next_lease_, next_cancel_check_});
    for (auto& a : running_) {
      if (!a) continue;
      for (int fd : a->PollFds()) fds_.push_back({fd, POLLIN, 0});  // exit, events, output
      wake = std::min(wake, a->CheckDeadlines(now));
    }
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    int rc = ::poll(fds_.data(), fds_.size(),
                    static_cast<int>(std::clamp<long long>(wait_ms, 0, 1000)));
    if (rc < 0 && errno != EINTR) return Status::Error("poll failed");
    return Status::Ok();
  }

  bool InterruptRequested() {
    if (ctx_.interrupt_fd < 0 || fds_.empty() || fds_[0].fd != ctx_.interrupt_fd ||
        !(fds_[0].revents & POLLIN)) {
      return false;
    }
    char buf[16];
    while (::read(ctx_.interrupt_fd, buf, sizeof(buf)) > 0) {
    }
    return true;
  }

  // Step 4, interrupts: first Ctrl-C forwards it and gives workers the grace period; a
  // second one kills them at once (Stop escalates).
  void Interrupt() {
    result_.interrupted = true;
    StopAll();
  }

  // No new claims; every worker is asked to stop (recorded interrupted: pending again).
  void StopAll() {
    stopping_ = true;
    for (auto& a : running_) {
      if (a) a->Stop(KillReason::kInterrupted, 0);
    }
  }

  // Step 5, reaping with the retry policy (retry_policy.h).
  Status ReapFinished() {
    std::vector<const RunningAttempt*> live;
    for (size_t i = 0; i < running_.size(); ++i) {
      if (!running_[i]) continue;
      running_[i]->ReadEvents();
      if (auto obs = running_[i]->TryFinish()) {
        if (Status s = Record(i, *obs); !s.ok()) return s;
        exhausted_ = false;  // a freed slot; a retry may be pending again
        continue;
      }
      live.push_back(running_[i].get());
    }
    progress_.OnTick(live);
    return Status::Ok();
  }

  Status Record(size_t i, const AttemptObservation& obs) {
    const store::Claim claim = running_[i]->claim();
    const std::string slot = local_.slots[i].name;
    FaultPoint("after_result_written");
    // The worker is reaped: whatever happens to the record, it no longer runs.
    running_[i].reset();
    return RecordEnd(claim, slot, AttemptVerdict::Observed(obs));
  }

  // The one record path (attempt/record.h), then the user is told.
  Status RecordEnd(const store::Claim& claim, const std::string& slot, const AttemptVerdict& v) {
    auto rec = RecordVerdict(db_, {claim.attempt_id, claim.try_number, claim.config_json}, v);
    if (!rec.ok()) return rec.status();
    if (rec->superseded) return Status::Ok();
    progress_.OnFinish(claim, slot, rec->result);
    if (v.interrupt || rec->result.outcome == "interrupted") {
      ++result_.requeued;
    } else {
      ++result_.recorded;
    }
    return Status::Ok();
  }

  // `orch cancel` from another terminal: stop as on Ctrl-C. Asked before every claim and
  // every `cancel_check_s` while workers run.
  Status CheckCancel() {
    if (stopping_) return Status::Ok();
    auto cancel = db_.CancelRequested(ctx_.run_id);
    if (!cancel.ok()) return cancel.status();
    if (*cancel) {
      result_.cancelled = true;
      StopAll();
    }
    return Status::Ok();
  }

  // Step 6, every `cancel_check_s`: a cancel of the sweep, and `orch cancel --study`,
  // whose study's attempts stop (recorded interrupted, pending for a later run) while
  // the others go on (F11).
  Status WatchCancel() {
    Clock::time_point now = Clock::now();
    if (now < next_cancel_check_) return Status::Ok();
    next_cancel_check_ = now + Ms(local_.cancel_check_s);
    if (Status s = CheckCancel(); !s.ok()) return s;
    for (auto& a : running_) {
      if (!a || a->stopping()) continue;
      auto held = db_.Held(ctx_.run_id, a->claim().trial_key);
      if (!held.ok()) return held.status();
      if (*held) a->Stop(KillReason::kInterrupted, 0);
    }
    return Status::Ok();
  }

  // Step 7: keep the ownership lease fresh, so no other orch takes these attempts over.
  Status RenewLease() {
    Clock::time_point now = Clock::now();
    if (now < next_lease_) return Status::Ok();
    next_lease_ = now + Ms(ctx_.lease_refresh_s);
    if (Status s = db_.RenewLease(ctx_.run_id, ctx_.lease_s); !s.ok()) return s;
    // An orch stalled past its lease (Ctrl-Z, a suspended laptop or VM) may have been
    // taken over: another run recorded these attempts interrupted and runs their trials
    // again. Their workers here are no longer ours to finish: stop them (the result they
    // would record is superseded anyway) instead of running each trial twice at once.
    for (auto& a : running_) {
      if (!a) continue;
      auto rec = db_.FindAttempt(a->claim().attempt_id);
      if (!rec.ok()) return rec.status();
      if (*rec && (*rec)->finished) a->Stop(KillReason::kInterrupted, 0);
    }
    return Status::Ok();
  }

  // The error path: stop every running worker (SIGTERM, grace, SIGKILL), record it
  // interrupted when the store still works (else the next `orch run` recovers it), and
  // return `error` for the caller to report.
  Status Abort(const Status& error) {
    // A failing store (locked, full, unreadable) is not asked again: the attempts stay
    // `running` under this run, whose pid is gone once orch exits, so the next
    // `orch run` recovers them.
    Status::Code c = error.code();
    bool store_failing = c == Status::Code::kBusy || c == Status::Code::kResource ||
                         c == Status::Code::kIOError || c == Status::Code::kCorruption;
    for (auto& a : running_) {
      if (a) a->Stop(KillReason::kTimeout, 0);  // SIGTERM; SIGKILL after the grace
    }
    Clock::time_point give_up = Clock::now() + Ms(local_.kill_grace_s + 5);
    while (RunningCount() > 0 && Clock::now() < give_up) {
      std::vector<pollfd> fds;
      Clock::time_point now = Clock::now();
      for (auto& a : running_) {
        if (!a) continue;
        a->CheckDeadlines(now);
        fds.push_back({a->process().pidfd(), POLLIN, 0});
      }
      ::poll(fds.data(), fds.size(), 100);
      for (auto& a : running_) {
        if (!a || !a->TryFinish()) continue;
        bool superseded = false;
        if (!store_failing) {
          (void)db_.InterruptAttempt(a->claim().attempt_id,
                                     "orch stopped on an error: " + error.message(), &superseded);
        }
        a.reset();
      }
    }
    running_.clear();  // anything left is killed and reaped by its destructor
    return error;
  }

  store::Store& db_;
  const RunContext& ctx_;
  const LocalOptions& local_;
  const std::string runs_dir_ = ctx_.RunsDir();
  RunSink& progress_;
  std::vector<std::unique_ptr<RunningAttempt>> running_;
  std::vector<pollfd> fds_;
  RunOutcome result_;
  bool stopping_ = false;   // Ctrl-C: no new claims
  bool exhausted_ = false;  // nothing left to claim
  Clock::time_point next_lease_, next_cancel_check_;
};

}  // namespace

StatusOr<RunOutcome> LocalExecutor::Run(store::Store& db, const RunContext& ctx, RunSink& sink) {
  SweepLoop loop(db, ctx, options_, sink);
  return loop.Run();
}

}  // namespace orch
