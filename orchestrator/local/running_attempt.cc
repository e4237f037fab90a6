#include "orchestrator/local/running_attempt.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "orchestrator/attempt/attempt_files.h"
#include "base/os_error.h"
#include "orchestrator/attempt/trial_document.h"

namespace orch {
namespace {

double Seconds(const nlohmann::json& config, const char* key, double fallback) {
  return config.contains(key) && config[key].is_number() ? config[key].get<double>() : fallback;
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses the copy, never the events themselves
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

StatusOr<std::unique_ptr<RunningAttempt>> RunningAttempt::Start(const AttemptLaunch& launch) {
  std::unique_ptr<RunningAttempt> a(new RunningAttempt(launch));
  const store::Claim& c = launch.claim;
  std::error_code ec;
  std::filesystem::create_directories(c.attempt_dir, ec);
  if (ec) {
    return IsResourceErrno(ec.value()) ? OsError(ec.value(), c.attempt_dir + ": cannot create")
                                       : Status::Error(c.attempt_dir + ": cannot create: " +
                                                       ec.message());
  }
  nlohmann::json config = nlohmann::json::parse(c.config_json, nullptr, false);
  a->timeout_s_ = Seconds(config, "timeout", 3600);
  a->heartbeat_timeout_s_ = Seconds(config, "heartbeat_timeout", 300);
  auto written = WriteTrialDocument(c, launch.inputs, "/dev/fd/3");
  if (!written.ok()) return written.status();
  const std::string& trial_path = *written;
  a->log_path_ = WorkerLogPath(c.attempt_dir);
  auto log = BoundedLog::Open(a->log_path_);
  if (!log.ok()) return log.status();
  a->log_ = std::move(log).value();
  std::string events_path = EventsFilePath(c.attempt_dir);
  a->events_log_fd_ = ::open(events_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (a->events_log_fd_ < 0) return OsError(errno, events_path + ": cannot open");

  SpawnOptions opts;
  opts.argv = {launch.worker, "--trial", trial_path};
  opts.cwd = c.attempt_dir;
  opts.env.emplace_back("ORCH_PROTOCOL", "1");
  if (launch.cpu_threads > 0 && !std::getenv("ORCH_WORKER_THREADS")) {
    opts.env.emplace_back("ORCH_WORKER_THREADS", std::to_string(launch.cpu_threads));
  }
  if (launch.cuda_visible_devices) {
    opts.env.emplace_back("CUDA_VISIBLE_DEVICES", *launch.cuda_visible_devices);
    // GPU indices mean what nvidia-smi and SLURM mean (PCI bus order), not CUDA's
    // default fastest-first order; a user's explicit choice is kept.
    if (!std::getenv("CUDA_DEVICE_ORDER")) opts.env.emplace_back("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
  }
  auto p = Subprocess::Spawn(opts);
  if (!p.ok()) return p.status();
  a->process_.emplace(std::move(p).value());
  a->started_ = a->last_event_ = Clock::now();
  return a;
}

RunningAttempt::~RunningAttempt() {
  process_.reset();  // kills and reaps a worker still running
  if (events_log_fd_ >= 0) ::close(events_log_fd_);
}

double RunningAttempt::elapsed_s() const {
  return std::chrono::duration<double>(Clock::now() - started_).count();
}

std::vector<int> RunningAttempt::PollFds() const {
  std::vector<int> fds;
  if (!process_) return fds;
  for (int fd : {process_->pidfd(), process_->event_fd(), process_->output_fd()}) {
    if (fd >= 0) fds.push_back(fd);
  }
  return fds;
}

void RunningAttempt::ReadOutput() {
  int fd = process_->output_fd();
  if (fd < 0) return;
  char buf[65536];
  // At most 4 MiB per call (more than the pipe holds): a worker that writes as fast as
  // orch reads must not keep orch from its other workers and from Ctrl-C.
  for (int chunks = 0; chunks < 64;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      log_->Append(std::string_view(buf, static_cast<size_t>(n)));
      ++chunks;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) process_->CloseOutputFd();  // EOF: every writer is gone
    break;
  }
}

void RunningAttempt::ReadEvents() { ReadPipes(); }

bool RunningAttempt::ReadPipes() {
  ReadOutput();
  int fd = process_->event_fd();
  if (fd < 0) return false;
  char buf[8192];
  std::string copy;
  bool any = false;
  for (int chunks = 0; chunks < 128;) {  // at most 1 MiB per call, as above
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      any = true;
      ++chunks;
      last_event_ = std::max(last_event_, Clock::now());
      for (const auto& line : events_.Feed(std::string_view(buf, static_cast<size_t>(n)))) {
        copy += line;
        copy += '\n';
      }
      continue;
    }
    if (n == 0) process_->CloseEventFd();  // EOF: the worker closed its end
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  if (!copy.empty() && events_log_fd_ >= 0) WriteAll(events_log_fd_, copy);
  return any;
}

void RunningAttempt::Stop(KillReason reason, double limit_s) {
  if (killed_for_ != KillReason::kNone) {
    // A second stop request (e.g. Ctrl-C twice): do not wait for the grace period.
    if (reason == KillReason::kInterrupted) process_->SignalGroup(SIGKILL);
    return;
  }
  killed_for_ = reason;
  kill_limit_s_ = limit_s;
  process_->SignalGroup(reason == KillReason::kInterrupted ? SIGINT : SIGTERM);
  process_->SignalGroup(SIGCONT);  // a stopped group must wake up to die
  kill_at_ = Clock::now() + std::chrono::milliseconds(
                                static_cast<long long>(launch_.kill_grace_s * 1000));
}

Clock::time_point RunningAttempt::CheckDeadlines(Clock::time_point now) {
  using std::chrono::milliseconds;
  auto after = [](Clock::time_point t, double s) {
    return t + milliseconds(static_cast<long long>(s * 1000));
  };
  // Events that waited in the pipe while orch was busy or stopped are the worker's
  // heartbeats: read them before judging the heartbeat deadline.
  if (ReadPipes()) last_event_ = std::max(last_event_, now);
  if (last_check_ && now > after(*last_check_, kStallGapS)) {
    // Orch itself was not running: it cannot know whether the worker was silent, so the
    // heartbeat deadline starts afresh (the wall-clock timeout does not: the worker ran).
    last_event_ = std::max(last_event_, now);
  }
  last_check_ = now;
  if (kill_at_) {
    if (now >= *kill_at_) {
      process_->SignalGroup(SIGKILL);
      kill_at_ = now + std::chrono::seconds(1);  // keep polling until it is reaped
    }
    return *kill_at_;
  }
  Clock::time_point wall = after(started_, timeout_s_);
  Clock::time_point beat = after(last_event_, heartbeat_timeout_s_);
  if (now >= wall) {
    Stop(KillReason::kTimeout, timeout_s_);
    return *kill_at_;
  }
  if (now >= beat) {
    Stop(KillReason::kHung, heartbeat_timeout_s_);
    return *kill_at_;
  }
  return std::min(wall, beat);
}

std::optional<AttemptObservation> RunningAttempt::TryFinish() {
  ExitInfo info;
  if (!process_->TryReap(&info)) return std::nullopt;
  ReadEvents();  // whatever was written before the exit (the group is dead: no more)
  process_->CloseEventFd();
  process_->CloseOutputFd();
  if (log_) (void)log_->Finish();  // a log cut short by a full disk is still a log
  if (events_log_fd_ >= 0) ::close(events_log_fd_);
  events_log_fd_ = -1;
  AttemptObservation obs;
  obs.killed_for = killed_for_;
  obs.limit_s = kill_limit_s_;
  obs.exit = info;
  obs.duration_s = elapsed_s();
  obs.result_text = ReadResultFile(ResultFilePath(launch_.claim.attempt_dir));
  obs.failure_event = events_.failure();
  obs.event_warnings = events_.warnings();
  obs.stderr_tail = ReadTail(log_path_, 20);
  return obs;
}

}  // namespace orch
