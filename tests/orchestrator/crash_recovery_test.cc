// Crash windows, recovery and ownership, end to end with the fake worker: orch is
// stopped at each named fault point (base/fault_point.h) and resumed; orphaned workers
// are stopped, finished results ingested, fresh leases respected, attempt directories
// never reused, machine faults stop claiming, and an ignored SIGHUP stays ignored.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "orch_process.h"
#include "sweep_probe.h"
#include "orchestrator/attempt/ownership.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch {
namespace {

using testing::LiveProcesses;
using testing::MarkerCounts;
using testing::OrchLog;
using testing::SpawnExtras;
using testing::SpawnOrchWith;
using testing::TempDir;
using testing::WaitOrch;
using testing::WriteText;

std::string Spec(const std::string& matrix,
                 const std::string& defaults = "tokens: 16, timeout: 20, heartbeat_timeout: 2") {
  return "name: e2e\nworker: " FAKE_WORKER "\ndefaults: {" + defaults +
         "}\nstudies:\n  - id: A\n    matrix: " + matrix + "\n";
}

int RunningAttempts(const std::string& dir) {
  return testing::RunningAttempts(dir + "/results/orch.db");
}

// Every trial done with `outcome`, exactly `terminal_attempts` attempts that are not
// `interrupted`, nothing running, the database whole, no worker left.
void ExpectEachTrialDoneOnce(const std::string& dir, size_t trials, const std::string& outcome,
                             int terminal_attempts = 1) {
  auto db = testing::OpenSweepDb(dir);
  ASSERT_TRUE(db);
  EXPECT_TRUE(db->IntegrityCheck().ok());
  auto all = Must(db->Trials(Must(db->FindSweep("e2e"))->id));
  ASSERT_EQ(all.size(), trials);
  for (const auto& t : all) {
    EXPECT_EQ(t.state, store::TrialState::kDone) << t.key;
    EXPECT_EQ(t.outcome, outcome) << t.key;
    int terminal = 0;
    for (const auto& a : Must(db->Attempts(t.key))) {
      EXPECT_TRUE(a.finished);
      terminal += a.outcome != "interrupted";
    }
    EXPECT_EQ(terminal, terminal_attempts) << t.key;
  }
  EXPECT_TRUE(Must(db->UnfinishedAttempts()).empty());
  EXPECT_EQ(LiveProcesses(FAKE_WORKER, dir), 0);
}

class CrashWindow : public ::testing::TestWithParam<const char*> {};

// orch dies at the named point; the resume must finish every trial exactly once: the
// worker's completion marker is written once per trial, so a result that was written
// but not recorded is ingested, not run again.
TEST_P(CrashWindow, ResumeFinishesEveryTrialExactlyOnce) {
  TempDir d;
  WriteText(d / "spec.yaml",
            Spec("{x_behavior: [sleep], x_sleep: [\"0.2\"], x_i: [\"1\", \"2\", \"3\", \"4\"], "
                 "x_marker: [\"" + d / "marker" + "\"]}"));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"},
                             {{{"ORCH_FAULT", GetParam()}}});
  EXPECT_EQ(WaitOrch(orch), 128 + SIGKILL) << OrchLog(d.path(), orch);
  EXPECT_GE(RunningAttempts(d.path()), 1);
  pid_t resume = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
  ASSERT_EQ(WaitOrch(resume), 0) << OrchLog(d.path(), resume);
  ExpectEachTrialDoneOnce(d.path(), 4, "ok");
  auto markers = MarkerCounts(d / "marker");
  EXPECT_EQ(markers.size(), 4u);
  for (const auto& [key, n] : markers) EXPECT_EQ(n, 1) << key;
  std::string p = GetParam();
  if (p == "after_result_written" || p == "inside_result_txn") {
    EXPECT_NE(OrchLog(d.path(), resume).find("result(s) that workers finished while no orch"),
              std::string::npos)
        << OrchLog(d.path(), resume);
  }
}

INSTANTIATE_TEST_SUITE_P(Points, CrashWindow,
                         ::testing::Values("after_claim", "after_spawn", "after_result_written",
                                           "inside_result_txn"));

// A result.json left while no orch was alive is read by the resume exactly as the live
// path reads it: Python's NaN literals are ingested (not rerun), a result the store
// could not hold (two entries for one repeat) is an explained `error` instead of a
// transaction that fails on every resume, and a FIFO in its place never blocks orch.
class LeftResult : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(LeftResult, IsIngestedLikeALiveOne) {
  const auto [behavior, outcome] = GetParam();
  TempDir d;
  WriteText(d / "spec.yaml", Spec(std::string("{x_behavior: [") + behavior + "]}"));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml"},
                             {{{"ORCH_FAULT", "after_result_written"}}});
  EXPECT_EQ(WaitOrch(orch), 128 + SIGKILL) << OrchLog(d.path(), orch);
  pid_t resume = SpawnOrchWith(d.path(), {"run", "spec.yaml"});
  ASSERT_EQ(WaitOrch(resume), 0) << OrchLog(d.path(), resume);
  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  auto trials = Must(db->Trials(Must(db->FindSweep("e2e"))->id));
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].outcome, outcome) << behavior;
  if (std::string(behavior) != "fifo_result") {  // a FIFO is no result: rerun, then error
    EXPECT_EQ(Must(db->Attempts(trials[0].key)).size(), 1u) << behavior << ": rerun, not ingested";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Behaviors, LeftResult,
    ::testing::Values(std::make_pair("nan_literals", "ok"),
                      std::make_pair("duplicate_repeat", "error"),
                      std::make_pair("number_overflow", "error"),
                      std::make_pair("fifo_result", "error")));

// A worker that outlives its orch (it writes no events, so no SIGPIPE ends it) is
// stopped with its group by the resume before its trial runs again: found by its
// recorded pid (after_spawn), or, when orch died before recording it, by its working
// directory (before_worker_recorded).
class OrphanedWorker : public ::testing::TestWithParam<const char*> {};

TEST_P(OrphanedWorker, IsStoppedBeforeItsTrialRunsAgain) {
  TempDir d;
  // Writes its pid first (the shell's pid is the sleep's after exec).
  WriteText(d / "quiet-worker",
            "#!/bin/sh\n[ -e " + d / "pid" + " ] || echo $$ > " + d / "pid" +
                "\nexec sleep 3600\n");
  std::filesystem::permissions(d / "quiet-worker", std::filesystem::perms::owner_all);
  WriteText(d / "spec.yaml", "name: e2e\nworker: ./quiet-worker\ndefaults: {timeout: 20, "
                             "retries: 0, heartbeat_timeout: 1}\nstudies:\n  - id: A\n"
                             "    matrix: {quant: [none]}\n");
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml"}, {{{"ORCH_FAULT", GetParam()}}});
  ASSERT_EQ(WaitOrch(orch), 128 + SIGKILL) << OrchLog(d.path(), orch);
  int64_t worker_pid = 0;
  for (int i = 0; i < 250 && worker_pid == 0; ++i) {
    std::ifstream in(d / "pid");
    if (!(in >> worker_pid)) {
      worker_pid = 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_GT(worker_pid, 0);
  int64_t worker_start = ProcessStartTicks(worker_pid).value_or(0);
  ASSERT_TRUE(SameProcessAlive(worker_pid, worker_start));
  {
    auto db = testing::OpenSweepDb(d.path());
    ASSERT_TRUE(db);
    auto unfinished = Must(db->UnfinishedAttempts());
    ASSERT_EQ(unfinished.size(), 1u);
    EXPECT_EQ(unfinished[0].worker_pid, std::string(GetParam()) == "after_spawn" ? worker_pid : 0);
  }
  pid_t resume = SpawnOrchWith(d.path(), {"run", "spec.yaml", "--kill-grace", "0.5"});
  EXPECT_EQ(WaitOrch(resume), 0) << OrchLog(d.path(), resume);
  EXPECT_NE(OrchLog(d.path(), resume).find("stopped 1 worker(s)"), std::string::npos)
      << OrchLog(d.path(), resume);
  EXPECT_FALSE(SameProcessAlive(worker_pid, worker_start));
  ExpectEachTrialDoneOnce(d.path(), 1, "hung");
}

INSTANTIATE_TEST_SUITE_P(Points, OrphanedWorker,
                         ::testing::Values("after_spawn", "before_worker_recorded"));

// An owner with a fresh lease is never taken over, even when its pid looks dead from
// here (same host name, another PID namespace); once its lease expires it is gone.
TEST(Recovery, AFreshLeaseIsRespectedAndAnExpiredOneTakenOver) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_behavior: [nan], x_i: [\"1\", \"2\"]}"));
  pid_t first = SpawnOrchWith(d.path(), {"run", "spec.yaml"});
  ASSERT_EQ(WaitOrch(first), 0) << OrchLog(d.path(), first);
  int64_t foreign_run = 0;
  {
    auto db = std::move(store::Store::Open(d / "results/orch.db")).value();
    int64_t sweep = Must(db->FindSweep("e2e"))->id;
    ASSERT_EQ(*db->ResetFailed(sweep), 2);
    store::Owner other{ThisProcessIdentity().host, 999999999, 1, "pid:[4026500000]"};
    foreign_run = *db->BeginRun(sweep, other, "{}", 60);
    auto c = db->ClaimNext(sweep, foreign_run, other, "cpu:0", [&](const std::string& k, int n) {
      return StatusOr<std::string>(d / ("foreign-" + k.substr(0, 8) + std::to_string(n)));
    });
    ASSERT_TRUE(c.ok() && c->has_value());
  }
  auto status = testing::RunOrch(d.path(), "status");
  EXPECT_NE(status.output.find("owners of running attempts"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("run " + std::to_string(foreign_run)), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("lease renewed "), std::string::npos) << status.output;
  EXPECT_EQ(status.output.find("(gone)"), std::string::npos) << status.output;

  pid_t second = SpawnOrchWith(d.path(), {"run", "spec.yaml"});
  EXPECT_EQ(WaitOrch(second), 1) << OrchLog(d.path(), second);
  EXPECT_NE(OrchLog(d.path(), second).find("1 trial(s) are still running under another orch"),
            std::string::npos) << OrchLog(d.path(), second);
  {
    auto db = std::move(store::Store::Open(d / "results/orch.db")).value();
    ASSERT_EQ(Must(db->UnfinishedAttempts()).size(), 1u);
    ASSERT_TRUE(db->RenewLease(foreign_run, -1).ok());  // its lease ran out
  }
  pid_t third = SpawnOrchWith(d.path(), {"run", "spec.yaml"});
  EXPECT_EQ(WaitOrch(third), 0) << OrchLog(d.path(), third);
  EXPECT_NE(OrchLog(d.path(), third).find("1 attempt(s) of a previous orch that died were marked "
                                          "interrupted"),
            std::string::npos) << OrchLog(d.path(), third);
  ExpectEachTrialDoneOnce(d.path(), 2, "nan", 2);  // once before --retry-failed, once after
}

// A reset database never appends to an old attempt's files: attempt-1 exists, so the
// new attempt 1 gets attempt-1.1.
TEST(Recovery, AttemptDirectoriesAreNeverReused) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_behavior: [ok]}"));
  ASSERT_EQ(testing::RunOrch(d.path(), "run spec.yaml").exit_code, 0);
  std::string key;
  for (const auto& e : std::filesystem::directory_iterator(d / "results/runs")) {
    key = e.path().filename().string();
  }
  ASSERT_EQ(key.size(), 64u);
  std::string old_dir = d / ("results/runs/" + key + "/attempt-1");
  auto read = [](const std::string& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  std::string events = read(old_dir + "/events.jsonl");
  std::string log = read(old_dir + "/worker.log");
  ASSERT_FALSE(events.empty());
  for (const char* f : {"orch.db", "orch.db-wal", "orch.db-shm"}) {
    std::filesystem::remove(d / (std::string("results/") + f));
  }
  auto again = testing::RunOrch(d.path(), "run spec.yaml");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read(old_dir + "/events.jsonl"), events);
  EXPECT_EQ(read(old_dir + "/worker.log"), log);
  auto db = testing::OpenSweepDb(d.path());
  auto attempts = Must(db->Attempts(key));
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].attempt_dir, old_dir + ".1");
  EXPECT_FALSE(read(old_dir + ".1/events.jsonl").empty());
}

// The machine's fault (here a full disk when making the attempt directory) stops new
// claims and leaves the trial pending with a message, instead of `error` results.
TEST(Recovery, AMachineFaultAtStartLeavesTrialsPendingAndSaysWhy) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_behavior: [ok], x_i: [\"1\", \"2\", \"3\"]}"));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"},
                             {{{"ORCH_FAULT", "attempt_dir_enospc"}}});
  EXPECT_EQ(WaitOrch(orch), 1) << OrchLog(d.path(), orch);
  std::string log = OrchLog(d.path(), orch);
  EXPECT_NE(log.find("fault of this machine"), std::string::npos) << log;
  EXPECT_NE(log.find("No space left on device"), std::string::npos) << log;
  {
    auto db = testing::OpenSweepDb(d.path());
    auto counts = Must(db->Counts(Must(db->FindSweep("e2e"))->id));
    EXPECT_EQ(counts[0].pending, 3);
    EXPECT_TRUE(counts[0].done.empty());
  }
  pid_t again = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
  EXPECT_EQ(WaitOrch(again), 0) << OrchLog(d.path(), again);
  ExpectEachTrialDoneOnce(d.path(), 3, "ok");
}

// A real machine fault, not a simulated one: orch under `ulimit -n N` for every N from
// too few to start at all up to enough for the whole sweep. Whatever step runs out of
// descriptors (the database, the pipes, a worker's start), no trial is ever blamed for
// it: each is ok or still pending, an exit 1 says why, and a run without the limit then
// finishes every trial exactly once.
TEST(Recovery, OutOfDescriptorsNeverBlamesATrial) {
  int machine_faults = 0;
  for (int limit = 8; limit <= 40; ++limit) {
    TempDir d;
    WriteText(d / "spec.yaml", Spec("{x_behavior: [ok], x_i: [\"1\", \"2\", \"3\"]}"));
    SpawnExtras low;
    low.max_open_files = limit;
    pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"}, low);
    int rc = WaitOrch(orch);
    std::string log = OrchLog(d.path(), orch);
    ASSERT_TRUE(rc == 0 || rc == 1) << "ulimit -n " << limit << ": exit " << rc << "\n" << log;
    if (rc == 1) EXPECT_NE(log.find("orch"), std::string::npos) << log;  // says why
    if (log.find("fault of this machine") != std::string::npos) {
      ++machine_faults;
      EXPECT_NE(log.find("Too many open files"), std::string::npos) << log;
    }
    if (std::filesystem::exists(d.path() + "/results/orch.db")) {
      auto db = testing::OpenSweepDb(d.path());
      ASSERT_TRUE(db);
      if (auto sweep = Must(db->FindSweep("e2e"))) {
        for (const auto& t : Must(db->Trials(sweep->id))) {
          EXPECT_TRUE(t.outcome.empty() || t.outcome == "ok")
              << "ulimit -n " << limit << ": trial " << t.key << " ended " << t.outcome;
        }
      }
    }
    pid_t again = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
    ASSERT_EQ(WaitOrch(again), 0) << OrchLog(d.path(), again);
    ExpectEachTrialDoneOnce(d.path(), 3, "ok");
  }
  // Some limit must have let orch start and then stopped a worker's start.
  EXPECT_GT(machine_faults, 0);
}

// An orch stalled past its lease is taken over by another (on another host, which
// cannot stop its workers): the other records the attempt interrupted and reruns the
// trial. When the first one wakes, its next lease refresh finds the attempt no longer
// its own and stops the worker instead of running the trial twice at once. The takeover
// is written into the database here as the other orch would write it.
TEST(Recovery, AnOwnerWhoseAttemptWasTakenOverStopsItsWorker) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_behavior: [sleep], x_sleep: [\"30\"]}", "timeout: 60"));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "--kill-grace", "0.5"},
                             {{{"ORCH_LEASE_S", "2"}, {"ORCH_LEASE_REFRESH_S", "0.1"}}});
  int64_t attempt = 0;
  for (int i = 0; i < 200 && attempt == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (RunningAttempts(d.path()) == 0) continue;
    auto db = testing::OpenSweepDb(d.path());
    for (const auto& a : Must(db->UnfinishedAttempts())) {
      if (a.worker_pid > 0) attempt = a.id;
    }
  }
  ASSERT_NE(attempt, 0) << OrchLog(d.path(), orch);
  {
    auto db = std::move(store::Store::Open(d / "results/orch.db")).value();
    bool superseded = false;
    ASSERT_TRUE(db->InterruptAttempt(attempt, "taken over by another orch", &superseded).ok());
    int64_t sweep = Must(db->FindSweep("e2e"))->id;
    store::Owner other{"another-host", 4242, 1, "pid:[4026500000]"};
    int64_t run = *db->BeginRun(sweep, other, "{}", 60);
    auto c = db->ClaimNext(sweep, run, other, "gpu:0", [&](const std::string& k, int n) {
      return StatusOr<std::string>(d / ("other-" + k.substr(0, 8) + std::to_string(n)));
    });
    ASSERT_TRUE(c.ok() && c->has_value());  // the other orch runs the trial now
  }
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(WaitOrch(orch), 1) << OrchLog(d.path(), orch);
  EXPECT_NE(OrchLog(d.path(), orch).find("still running under another orch"), std::string::npos)
      << OrchLog(d.path(), orch);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 15) << "the worker ran on after its attempt was taken over";
  EXPECT_EQ(LiveProcesses(FAKE_WORKER, d.path()), 0);
  auto db = testing::OpenSweepDb(d.path());
  auto rec = Must(db->FindAttempt(attempt));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->outcome, "interrupted");  // the first verdict stands
}

// The scheduler loop keeps its run's lease fresh: with a 2 s lease refreshed every
// 0.1 s, the lease has not expired 3 s into a trial.
TEST(Recovery, TheRunLoopRefreshesItsLease) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_behavior: [sleep], x_sleep: [\"30\"]}"));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "--kill-grace", "0.5"},
                             {{{"ORCH_LEASE_S", "2"}, {"ORCH_LEASE_REFRESH_S", "0.1"}}});
  for (int i = 0; i < 250 && RunningAttempts(d.path()) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  {
    auto db = testing::OpenSweepDb(d.path());
    ASSERT_TRUE(db);
    auto unfinished = Must(db->UnfinishedAttempts());
    ASSERT_EQ(unfinished.size(), 1u);
    auto run = Must(db->FindRun(unfinished[0].run_id));
    ASSERT_TRUE(run && run->lease_expires_s && run->heartbeat_s);
    EXPECT_GT(*run->lease_expires_s, UnixNow());
    EXPECT_NEAR(*run->lease_expires_s - *run->heartbeat_s, 2, 1e-6);
  }
  kill(orch, SIGINT);
  EXPECT_EQ(WaitOrch(orch), 130) << OrchLog(d.path(), orch);
}

// A store error in the middle of a run (the database stays locked past the busy
// timeout) ends it cleanly: workers stopped, exit 1 with the reason, and the next run
// finishes every trial exactly once.
TEST(Recovery, AStoreErrorStopsTheRunningWorkersAndExitsOne) {
  TempDir d;
  WriteText(d / "spec.yaml",
            Spec("{x_behavior: [sleep], x_sleep: [\"5\"], x_i: [\"1\", \"2\"]}"));
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2", "--kill-grace", "1"},
                             {{{"ORCH_DB_BUSY_TIMEOUT_MS", "100"},
                               {"ORCH_LEASE_REFRESH_S", "0.1"}}});
  for (int i = 0; i < 200 && RunningAttempts(d.path()) < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open((d / "results/orch.db").c_str(), &lock), SQLITE_OK);
  sqlite3_busy_timeout(lock, 5000);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  int code = WaitOrch(orch);  // the lease refresh fails with SQLITE_BUSY
  // The workers were stopped by orch itself, before it exited.
  EXPECT_EQ(LiveProcesses(FAKE_WORKER, d.path()), 0);
  sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  EXPECT_EQ(code, 1) << OrchLog(d.path(), orch);
  std::string log = OrchLog(d.path(), orch);
  EXPECT_NE(log.find("locked"), std::string::npos) << log;
  EXPECT_NE(log.find("running workers were stopped"), std::string::npos) << log;
  pid_t again = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"});
  EXPECT_EQ(WaitOrch(again), 0) << OrchLog(d.path(), again);
  ExpectEachTrialDoneOnce(d.path(), 2, "ok");
}

// `nohup orch run ... &`: SIGHUP ignored by the parent stays ignored.
// With SIGCHLD ignored the kernel reaps children itself and waitid fails with ECHILD:
// orch resets it, or it would never see its workers' exit statuses (and spin forever).
TEST(Signals, AnInheritedIgnoredSigchldIsReset) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_behavior: [ok, exit], x_i: [\"1\", \"2\"]}"));
  SpawnExtras extras;
  extras.ignore_sigchld = true;
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"}, extras);
  ASSERT_EQ(WaitOrch(orch), 0) << OrchLog(d.path(), orch);
  auto db = testing::OpenSweepDb(d.path());
  ASSERT_TRUE(db);
  std::map<std::string, int> outcomes;  // the exit status 3 is seen, not lost
  for (const auto& t : Must(db->Trials(Must(db->FindSweep("e2e"))->id))) ++outcomes[t.outcome];
  EXPECT_EQ(outcomes, (std::map<std::string, int>{{"error", 2}, {"ok", 2}}));
}

TEST(Signals, AnInheritedIgnoredSighupStaysIgnored) {
  TempDir d;
  WriteText(d / "spec.yaml", Spec("{x_behavior: [sleep], x_sleep: [\"1\"], x_i: [\"1\", \"2\"]}"));
  SpawnExtras nohup;
  nohup.ignore_sighup = true;
  pid_t orch = SpawnOrchWith(d.path(), {"run", "spec.yaml", "-j", "2"}, nohup);
  for (int i = 0; i < 200 && RunningAttempts(d.path()) < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(kill(orch, SIGHUP), 0);
  EXPECT_EQ(WaitOrch(orch), 0) << OrchLog(d.path(), orch);
  ExpectEachTrialDoneOnce(d.path(), 2, "ok");
}

}  // namespace
}  // namespace orch
