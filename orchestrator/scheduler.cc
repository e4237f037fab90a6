#include "orchestrator/scheduler.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "base/outcome.h"

namespace orch {

namespace {

int MaxAttempts(const std::string& config_json) {
  nlohmann::json c = nlohmann::json::parse(config_json, nullptr, false);
  int retries = c.is_object() && c.contains("retries") && c["retries"].is_number_integer()
                    ? c["retries"].get<int>()
                    : 1;
  return 1 + std::max(0, retries);
}

}  // namespace

StatusOr<SchedulerResult> RunSweep(store::Store& db, const SchedulerOptions& opts,
                                   ProgressSink& progress) {
  SchedulerResult result;
  std::vector<std::unique_ptr<RunningAttempt>> running(opts.slots.size());
  bool stopping = false;
  bool exhausted = false;  // nothing left to claim

  auto finish = [&](size_t i, const AttemptObservation& obs) -> Status {
    RunningAttempt& a = *running[i];
    store::AttemptResult r = Classify(obs);
    r.attempt_id = a.claim().attempt_id;
    auto oc = ParseOutcome(r.outcome).value_or(OutcomeClass::kError);
    if (oc == OutcomeClass::kInterrupted && obs.killed_for == KillReason::kInterrupted) {
      r.terminal = false;  // the user stopped the sweep: the next run does it again
    } else {
      r.terminal = !IsTransient(oc) || a.claim().try_number >= MaxAttempts(a.claim().config_json);
    }
    Status s = db.FinishAttempt(r);
    progress.OnFinish(a.claim(), r);
    ++result.attempts;
    running[i].reset();
    return s;
  };

  while (true) {
    // Fill free slots; a slot whose worker failed to start stays free for the next claim.
    for (size_t i = 0; i < running.size() && !stopping && !exhausted;) {
      if (running[i]) {
        ++i;
        continue;
      }
      auto claim = db.ClaimNext(opts.sweep_id, opts.run_id, opts.owner, opts.slots[i].name,
                                [&](const std::string& key, int n) {
                                  return opts.runs_dir + "/" + key + "/attempt-" +
                                         std::to_string(n);
                                });
      if (!claim.ok()) return claim.status();
      if (!claim->has_value()) {
        exhausted = true;
        break;
      }
      AttemptLaunch launch{**claim, opts.worker, opts.inputs, opts.slots[i].name,
                           opts.slots[i].cuda_visible_devices, opts.slots[i].cpu_threads,
                           opts.kill_grace_s};
      auto started = RunningAttempt::Start(launch);
      if (!started.ok()) {
        // The worker could not even start: a result like any other, not a lost trial.
        store::AttemptResult r;
        r.attempt_id = launch.claim.attempt_id;
        r.outcome = "error";
        r.reason = started.status().message();
        r.terminal = true;
        if (Status s = db.FinishAttempt(r); !s.ok()) return s;
        progress.OnStart(launch.claim, launch.slot);
        progress.OnFinish(launch.claim, r);
        ++result.attempts;
        continue;
      }
      running[i] = std::move(started).value();
      if (Status s = db.SetAttemptLog(launch.claim.attempt_id, running[i]->log_path()); !s.ok()) {
        return s;
      }
      progress.OnStart(launch.claim, launch.slot);
      ++i;
    }
    if (std::none_of(running.begin(), running.end(), [](const auto& r) { return r != nullptr; })) {
      break;
    }

    // Wait for an exit, an event, Ctrl-C, or the next deadline.
    std::vector<pollfd> fds;
    if (opts.interrupt_fd >= 0) fds.push_back({opts.interrupt_fd, POLLIN, 0});
    Clock::time_point now = Clock::now();
    Clock::time_point wake = now + std::chrono::seconds(1);
    for (auto& a : running) {
      if (!a) continue;
      fds.push_back({a->process().pidfd(), POLLIN, 0});
      if (a->process().event_fd() >= 0) fds.push_back({a->process().event_fd(), POLLIN, 0});
      wake = std::min(wake, a->CheckDeadlines(now));
    }
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(wait_ms, 0, 1000)));
    if (rc < 0 && errno != EINTR) return Status::Error("poll failed");

    if (opts.interrupt_fd >= 0 && !fds.empty() && fds[0].fd == opts.interrupt_fd &&
        (fds[0].revents & POLLIN)) {
      char buf[16];
      while (::read(opts.interrupt_fd, buf, sizeof(buf)) > 0) {
      }
      // First Ctrl-C: forward it and give workers the grace period; a second one
      // kills them at once (Stop escalates).
      stopping = true;
      result.interrupted = true;
      for (auto& a : running) {
        if (a) a->Stop(KillReason::kInterrupted, 0);
      }
    }
    std::vector<const RunningAttempt*> live;
    for (size_t i = 0; i < running.size(); ++i) {
      if (!running[i]) continue;
      running[i]->ReadEvents();
      if (auto obs = running[i]->TryFinish()) {
        if (Status s = finish(i, *obs); !s.ok()) return s;
        // A finished attempt frees its slot; a retry may be pending again.
        exhausted = false;
        continue;
      }
      live.push_back(running[i].get());
    }
    progress.OnTick(live);
  }
  return result;
}

}  // namespace orch
