// Subprocess, RunningAttempt and BoundedLog under machine faults: out of descriptors,
// full disk, a missing worker, no pidfd, a hanging probe, an orch that was stalled,
// a worker whose output would fill the disk.
#include "orchestrator/local/subprocess.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/os_error.h"
#include "orchestrator/local/bounded_log.h"
#include "orchestrator/provenance.h"
#include "orchestrator/local/running_attempt.h"
#include "test_util.h"

namespace orch {
namespace {

using testing::TempDir;
using testing::WriteText;

std::string Script(const TempDir& d, const std::string& name, const std::string& body) {
  std::string path = d / name;
  WriteText(path, "#!/bin/sh\n" + body);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

AttemptLaunch Launch(const std::string& dir, const std::string& worker,
                     const std::string& config = R"({"timeout": 100, "heartbeat_timeout": 1})") {
  AttemptLaunch l;
  l.claim.trial_key = "k";
  l.claim.config_json = config;
  l.claim.attempt_id = 1;
  l.claim.attempt_number = 1;
  l.claim.try_number = 1;
  l.claim.attempt_dir = dir;
  l.worker = worker;
  l.inputs = nlohmann::json::object();
  l.slot = "cpu:0";
  l.kill_grace_s = 0.2;
  return l;
}

AttemptObservation WaitFinish(RunningAttempt& a) {
  while (true) {
    if (auto obs = a.TryFinish()) return *obs;
    std::vector<pollfd> fds;
    for (int fd : a.PollFds()) fds.push_back({fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    a.CheckDeadlines(Clock::now());
  }
}

int LowestFreeFd() {
  int fd = ::dup(0);
  ::close(fd);
  return fd;
}

TEST(OsError, MachineFaultsAreResourceErrorsThatSayWhatToFix) {
  for (int err : {ENOSPC, EDQUOT, EMFILE, ENFILE, EAGAIN, ENOMEM}) {
    Status s = OsError(err, "x");
    EXPECT_TRUE(s.IsResource()) << err;
    EXPECT_NE(s.message().find("then resume"), std::string::npos) << s.message();
  }
  EXPECT_NE(OsError(EMFILE, "x").message().find("ulimit -n"), std::string::npos);
  for (int err : {ENOENT, EACCES, ENOEXEC, EISDIR}) EXPECT_FALSE(OsError(err, "x").IsResource());
}

TEST(RunningAttemptStart, AMissingWorkerIsTheTrialsErrorNotAMachineFault) {
  TempDir d;
  auto a = RunningAttempt::Start(Launch(d / "attempt-1", d / "no-such-worker"));
  ASSERT_FALSE(a.ok());
  EXPECT_FALSE(a.status().IsResource());
  EXPECT_NE(a.status().message().find("cannot start"), std::string::npos) << a.status().message();
  EXPECT_NE(a.status().message().find("No such file"), std::string::npos) << a.status().message();
  WriteText(d / "not-executable", "#!/bin/sh\n");
  auto b = RunningAttempt::Start(Launch(d / "attempt-2", d / "not-executable"));
  ASSERT_FALSE(b.ok());
  EXPECT_FALSE(b.status().IsResource());
}

TEST(RunningAttemptStart, OutOfDescriptorsIsAResourceFaultAtEveryStepAndLeaksNothing) {
  TempDir d;
  std::string worker = Script(d, "w", "exit 0\n");
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  int base = LowestFreeFd();
  int resource_failures = 0, successes = 0;
  // Every limit from "nothing left" to "enough": each step of Start that opens a
  // descriptor fails in turn; each failure is Resource and closes what it opened.
  for (int extra = 0; extra < 16; ++extra) {
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(base + extra);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    auto a = RunningAttempt::Start(Launch(d / ("attempt-" + std::to_string(extra)), worker));
    Status s = a.status();
    if (a.ok()) {
      ++successes;
      WaitFinish(**a);
      a->reset();
    }
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsResource()) << "with " << extra << " free descriptors: " << s.message();
      EXPECT_NE(s.message().find("ulimit -n"), std::string::npos) << s.message();
      ++resource_failures;
    }
    EXPECT_EQ(LowestFreeFd(), base) << "descriptors leaked with " << extra << " free";
  }
  EXPECT_GT(resource_failures, 3);
  EXPECT_GT(successes, 0);
}

TEST(RunningAttemptStart, AFullDiskIsAResourceFault) {
  // A 64 KiB tmpfs, filled, in a private mount namespace of a child process: needs
  // CAP_SYS_ADMIN (root in CI containers usually has it; skip otherwise).
  TempDir d;
  std::string worker = Script(d, "w", "exit 0\n");
  std::filesystem::create_directories(d / "small");
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) _exit(77);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(77);
    if (::mount("tmpfs", (d / "small").c_str(), "tmpfs", 0, "size=64k") != 0) _exit(77);
    {
      std::ofstream fill(d / "small/fill");
      std::string block(4096, 'x');
      for (int i = 0; i < 64 && fill; ++i) fill << block << std::flush;
    }
    auto a = RunningAttempt::Start(Launch(d / "small/attempt-1", worker));
    if (a.ok()) _exit(1);
    if (!a.status().IsResource()) _exit(2);
    if (a.status().message().find("free disk space") == std::string::npos) _exit(3);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot mount a tmpfs here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: started, 2: not Resource, 3: no hint";
}

TEST(RunningAttemptStart, NoProcessesLeftIsAResourceFault) {
  // RLIMIT_NPROC binds only unprivileged users: a child process drops to `nobody` and
  // may have no other process, so posix_spawn fails with EAGAIN. Needs root to setuid.
  TempDir d;
  std::string worker = Script(d, "w", "exit 0\n");
  std::filesystem::permissions(d.path(), std::filesystem::perms::all);
  std::filesystem::permissions(
      worker, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                  std::filesystem::perms::others_exec);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(77);
    rlimit one{1, 1};
    if (::setrlimit(RLIMIT_NPROC, &one) != 0) _exit(77);
    auto a = RunningAttempt::Start(Launch(d / "attempt-1", worker));
    if (a.ok()) _exit(1);
    if (!a.status().IsResource()) _exit(2);
    if (a.status().message().find("ulimit -u") == std::string::npos) _exit(3);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot become an unprivileged user here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: started, 2: not Resource, 3: no hint";
}

TEST(Subprocess, WithoutPidfdASigchldPipeWakesThePollOnExit) {
  ::setenv("ORCH_NO_PIDFD", "1", 1);
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "read x < /dev/null; exit 7"};
  o.event_pipe = false;
  auto p = Subprocess::Spawn(o);
  ::unsetenv("ORCH_NO_PIDFD");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->uses_pidfd());
  char link[64] = {0};
  std::string fd_path = "/proc/self/fd/" + std::to_string(p->pidfd());
  ASSERT_GT(::readlink(fd_path.c_str(), link, sizeof(link) - 1), 0);
  EXPECT_EQ(std::string(link).rfind("pipe:", 0), 0u) << link;
  ExitInfo info;
  // The poll wakes on the exit (not on a timeout): no sleep decides the outcome.
  for (int i = 0; i < 100 && !p->TryReap(&info); ++i) {
    pollfd pfd{p->pidfd(), POLLIN, 0};
    int rc = ::poll(&pfd, 1, 30000);
    // The SIGCHLD handler may interrupt the poll itself (EINTR): a wakeup as well.
    ASSERT_TRUE(rc == 1 || (rc < 0 && errno == EINTR)) << "the exit did not wake the poll";
  }
  EXPECT_FALSE(info.signaled);
  EXPECT_EQ(info.code, 7);
  // Drained: the loop does not spin on a stale wakeup.
  pollfd pfd{p->pidfd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);
}

TEST(Subprocess, WithPidfdByDefault) {
  SpawnOptions o;
  o.argv = {"/bin/true"};
  auto p = Subprocess::Spawn(o);
  ASSERT_TRUE(p.ok());
  char link[64] = {0};
  std::string fd_path = "/proc/self/fd/" + std::to_string(p->pidfd());
  ASSERT_GT(::readlink(fd_path.c_str(), link, sizeof(link) - 1), 0);
  if (p->uses_pidfd()) {
    EXPECT_NE(std::string(link).find("pidfd"), std::string::npos) << link;
  }
}

TEST(CaptureOutput, AHangingProbeIsKilledWithItsWholeGroupAfterTheTimeout) {
  TempDir d;
  // Like a wedged driver: nvidia-smi never answers; its child keeps stdout open.
  Script(d, "nvidia-smi", "sleep 60 &\necho $! > " + (d / "sleep.pid") + "\nwait\n");
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (d.path() + ":" + old_path).c_str(), 1);
  auto t0 = std::chrono::steady_clock::now();
  nlohmann::json prov = CollectProvenance(/*probe_timeout_s=*/0.5);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::setenv("PATH", old_path.c_str(), 1);
  EXPECT_LT(took, 30) << "the probe was not stopped";
  EXPECT_TRUE(prov["gpus"].empty());
  EXPECT_GE(prov["cpus_usable"].get<int>(), 1);
  ASSERT_TRUE(prov.contains("probe_errors")) << prov.dump();
  EXPECT_NE(prov["probe_errors"][0].get<std::string>().find("nvidia-smi: no answer within 0.5 s"),
            std::string::npos);
  // The grandchild died with the group (it may linger as a zombie until reparented).
  std::ifstream pid_in(d / "sleep.pid");
  int sleep_pid = 0;
  ASSERT_TRUE(pid_in >> sleep_pid);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(sleep_pid) + "/stat");
    std::string s;
    std::getline(stat, s);
    gone = s.empty() || s.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone) << "sleep " << sleep_pid << " survived its probe";
}

TEST(CaptureOutput, AnAnsweringProbeStillAnswers) {
  auto out = CaptureOutput({"/bin/echo", "hello"}, 10);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, "hello\n");
  EXPECT_FALSE(CaptureOutput({"/nonexistent/probe"}, 10).ok());
}

TEST(BoundedLog, KeepsHeadAndTailAndNeverGrowsPastItsCap) {
  TempDir d;
  const uint64_t head = 1000, tail = 4000;
  auto log = BoundedLog::Open(d / "worker.log", head, tail);
  ASSERT_TRUE(log.ok());
  std::string all;
  for (int i = 0; i < 20000; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    all += line;
    (*log)->Append(line);
    if (i % 97 == 0) {
      EXPECT_LE(std::filesystem::file_size(d / "worker.log"), head + 2 * tail + 256 + line.size());
    }
  }
  ASSERT_TRUE((*log)->Finish().ok());
  std::ifstream in(d / "worker.log", std::ios::binary);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_LE(kept.size(), head + tail + 256);
  EXPECT_EQ(kept.substr(0, head), all.substr(0, head));
  EXPECT_EQ(kept.substr(kept.size() - tail), all.substr(all.size() - tail));
  uint64_t dropped = all.size() - head - tail;
  EXPECT_EQ((*log)->dropped_bytes(), dropped);
  EXPECT_NE(kept.find("[orch: " + std::to_string(dropped) + " bytes of worker output dropped"),
            std::string::npos);
  EXPECT_EQ(ReadTail(d / "worker.log", 1), "line 19999\n");
}

TEST(BoundedLog, ASmallLogIsAnExactCopy) {
  TempDir d;
  auto log = BoundedLog::Open(d / "worker.log", 1000, 4000);
  ASSERT_TRUE(log.ok());
  (*log)->Append("hello\n");
  (*log)->Append("world\n");
  ASSERT_TRUE((*log)->Finish().ok());
  std::ifstream in(d / "worker.log");
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "hello\nworld\n");
}

TEST(BoundedLog, AFullDiskIsRememberedAsAResourceFault) {
  auto log = BoundedLog::Open("/dev/full");
  ASSERT_TRUE(log.ok()) << log.status().message();
  (*log)->Append("lost\n");
  EXPECT_TRUE((*log)->write_error().IsResource()) << (*log)->write_error().message();
  EXPECT_TRUE((*log)->Finish().IsResource());
}

TEST(RunningAttemptDeadlines, AStallOfOrchGivesTheHeartbeatAFreshGrace) {
  TempDir d;
  std::string worker = Script(d, "silent", "exec sleep 60\n");
  auto a = RunningAttempt::Start(Launch(d / "attempt-1", worker));
  ASSERT_TRUE(a.ok()) << a.status().message();
  Clock::time_point t0 = Clock::now();
  (*a)->CheckDeadlines(t0);
  // Orch did not run for 10 s (SIGSTOP): a heartbeat_timeout of 1 s expired meanwhile,
  // but orch cannot tell a silent worker from one it did not watch.
  (*a)->CheckDeadlines(t0 + std::chrono::seconds(10));
  (*a)->CheckDeadlines(t0 + std::chrono::milliseconds(10500));
  (*a)->Stop(KillReason::kInterrupted, 0);
  EXPECT_EQ(WaitFinish(**a).killed_for, KillReason::kInterrupted);
}

TEST(RunningAttemptDeadlines, ASilentWorkerIsHungWhenOrchWasWatching) {
  TempDir d;
  std::string worker = Script(d, "silent", "exec sleep 60\n");
  auto a = RunningAttempt::Start(Launch(d / "attempt-1", worker));
  ASSERT_TRUE(a.ok()) << a.status().message();
  Clock::time_point t0 = Clock::now();
  (*a)->CheckDeadlines(t0);
  (*a)->CheckDeadlines(t0 + std::chrono::milliseconds(10000));  // a stall: fresh grace
  for (int ms = 10500; ms <= 12000; ms += 500) {
    (*a)->CheckDeadlines(t0 + std::chrono::milliseconds(ms));  // watched, silent
  }
  auto obs = WaitFinish(**a);
  EXPECT_EQ(obs.killed_for, KillReason::kHung);
}

TEST(RunningAttemptDeadlines, EventsWaitingInThePipeCountBeforeTheDeadlineIsJudged) {
  TempDir d;
  // One event, then silence: orch reads it only when it judges the deadline.
  std::string worker =
      Script(d, "one-event", "echo '{\"event\":\"heartbeat\",\"t\":1}' >&3\nexec sleep 60\n");
  auto a = RunningAttempt::Start(Launch(d / "attempt-1", worker));
  ASSERT_TRUE(a.ok()) << a.status().message();
  // Wait (without reading it) until the event sits in the pipe.
  pollfd pfd{(*a)->process().event_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 30000), 1);
  // Judged 1.5 s after the start (heartbeat_timeout 1 s): the event read at that moment
  // is a heartbeat at that moment, not hung.
  (*a)->CheckDeadlines(Clock::now() + std::chrono::milliseconds(1500));
  (*a)->Stop(KillReason::kInterrupted, 0);
  EXPECT_EQ(WaitFinish(**a).killed_for, KillReason::kInterrupted);
}

}  // namespace
}  // namespace orch
