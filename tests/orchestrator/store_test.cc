// The store: schema versioning, claims across processes, one-transaction results.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "store/schema.h"
#include "store/statement.h"
#include "old_database.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"
#include "tests/orchestrator/store_fixture.h"

namespace orch::store {
namespace {

using orch::testing::TempDir;
using testing::Key;
using testing::Me;

SweepDef Sweep(int n, const std::string& name = "s") {
  SweepDef d = testing::BareSweep(name);
  StudyDef st;
  st.id = "A";
  st.title = "t";
  for (int i = 0; i < n; ++i) {
    st.cells.push_back({Key(i), "{\"i\":" + std::to_string(i) + "}"});
  }
  d.studies.push_back(st);
  return d;
}

StatusOr<std::string> DirFor(const std::string& key, int n) {
  return "/runs/" + key + "/" + std::to_string(n);
}

void SetPragma(const std::string& path, const std::string& pragma) {
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(Store, NewDatabaseIsVersionedAndWhole) {
  TempDir d;
  auto s = Store::Open(d / "sub/orch.db");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(Must((*s)->schema_version()), kSchemaVersion);
  EXPECT_TRUE((*s)->IntegrityCheck().ok());
}

TEST(Store, RefusesADatabaseFromANewerOrch) {
  TempDir d;
  { ASSERT_TRUE(Store::Open(d / "orch.db").ok()); }
  SetPragma(d / "orch.db", "PRAGMA user_version = 99");
  auto s = Store::Open(d / "orch.db");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("schema version 99 is newer than this orch understands"),
            std::string::npos) << s.status().message();
  EXPECT_FALSE(Store::Open(d / "orch.db", OpenMode::kReadOnly).ok());
}

TEST(Store, RefusesAForeignDatabase) {
  TempDir d;
  SetPragma(d / "other.db", "CREATE TABLE t(x)");
  auto s = Store::Open(d / "other.db");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not an orch database"), std::string::npos);
}

TEST(Store, ReopeningMigratesNothingTwiceAndKeepsData) {
  TempDir d;
  {
    auto s = Store::Open(d / "orch.db");
    ASSERT_TRUE((*s)->UpsertSweep(Sweep(3)).ok());
  }
  auto s = Store::Open(d / "orch.db");
  ASSERT_TRUE(s.ok());
  auto sweep = Must((*s)->FindSweep("s"));
  ASSERT_TRUE(sweep);
  EXPECT_EQ(Must((*s)->UnfinishedCount(sweep->id)), 3);
}

TEST(Store, FinishAttemptStoresTheWholeResultAndRetriesGoBackToPending) {
  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(1));
  int64_t run = *s->BeginRun(sweep, Me(), "{}");
  auto c = s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->attempt_number, 1);
  AttemptResult r;
  r.attempt_id = (*c)->attempt_id;
  r.outcome = "crash";
  r.terminal = false;
  ASSERT_TRUE(s->FinishAttempt(r).ok());
  EXPECT_EQ(Must(s->UnfinishedCount(sweep)), 1);
  auto c2 = s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
  ASSERT_TRUE(c2.ok() && c2->has_value());
  EXPECT_EQ((*c2)->attempt_number, 2);
  EXPECT_EQ((*c2)->attempt_dir, *DirFor((*c2)->trial_key, 2));
  AttemptResult ok;
  ok.attempt_id = (*c2)->attempt_id;
  ok.outcome = "ok";
  ok.metrics = {{"ppl", 3.5}};
  ok.samples = {{0, 0, 1.5, 2.0, true}, {0, 1, 1.25, std::nan(""), false}};
  ASSERT_TRUE(s->FinishAttempt(ok).ok());
  EXPECT_EQ(Must(s->UnfinishedCount(sweep)), 0);
  auto t = s->FindTrial((*c2)->trial_key.substr(0, 10));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->outcome, "ok");
  EXPECT_EQ(t->final_attempt_id, ok.attempt_id);
  EXPECT_EQ(Must(s->Metrics(ok.attempt_id)).at("ppl"), 3.5);
  auto samples = Must(s->Samples(ok.attempt_id));
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_TRUE(samples[0].warmup);
  EXPECT_TRUE(std::isnan(samples[1].nll));
  // A finished attempt cannot be finished again (no trial completes twice).
  EXPECT_FALSE(s->FinishAttempt(ok).ok());
}

TEST(Store, InterruptedAttemptsBecomePendingAndKeepTheFirstVerdict) {
  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(2));
  Owner dead{"host", 999999, 7};
  int64_t run = *s->BeginRun(sweep, dead, "{}");
  auto c = s->ClaimNext(sweep, run, dead, "cpu:0", DirFor);
  ASSERT_TRUE(c.ok() && c->has_value());
  bool superseded = true;
  ASSERT_TRUE(s->InterruptAttempt((*c)->attempt_id, "gone", &superseded).ok());
  EXPECT_FALSE(superseded);
  auto attempts = Must(s->Attempts((*c)->trial_key));
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].outcome, "interrupted");
  EXPECT_EQ(Must(s->Counts(sweep))[0].pending, 2);
  // A late result of the same attempt (its owner was only stalled) changes nothing.
  AttemptResult late;
  late.attempt_id = (*c)->attempt_id;
  late.outcome = "ok";
  ASSERT_TRUE(s->FinishAttempt(late, &superseded).ok());
  EXPECT_TRUE(superseded);
  EXPECT_EQ(Must(s->Attempts((*c)->trial_key))[0].outcome, "interrupted");
  EXPECT_EQ(Must(s->Counts(sweep))[0].pending, 2);
}

// Item: an interrupted attempt (orch killed, Ctrl-C, a machine fault) never uses up the
// trial's retries. Before, try_number counted every attempt since --retry-failed.
TEST(Store, InterruptedAttemptsDoNotCountAsTries) {
  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(1));
  int64_t run = *s->BeginRun(sweep, Me(), "{}");
  auto c1 = s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
  ASSERT_TRUE(c1.ok() && c1->has_value());
  EXPECT_EQ((*c1)->try_number, 1);
  ASSERT_TRUE(s->InterruptAttempt((*c1)->attempt_id, "orch died").ok());
  auto c2 = s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
  ASSERT_TRUE(c2.ok() && c2->has_value());
  EXPECT_EQ((*c2)->attempt_number, 2);
  EXPECT_EQ((*c2)->try_number, 1);
  // Ctrl-C: the scheduler stores `interrupted`, not terminal.
  AttemptResult ctrl_c;
  ctrl_c.attempt_id = (*c2)->attempt_id;
  ctrl_c.outcome = "interrupted";
  ctrl_c.terminal = false;
  ASSERT_TRUE(s->FinishAttempt(ctrl_c).ok());
  auto c3 = s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
  ASSERT_TRUE(c3.ok() && c3->has_value());
  EXPECT_EQ((*c3)->try_number, 1);
  AttemptResult crash;
  crash.attempt_id = (*c3)->attempt_id;
  crash.outcome = "crash";
  crash.terminal = false;
  ASSERT_TRUE(s->FinishAttempt(crash).ok());
  auto c4 = s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
  ASSERT_TRUE(c4.ok() && c4->has_value());
  EXPECT_EQ((*c4)->attempt_number, 4);
  EXPECT_EQ((*c4)->try_number, 2);
  EXPECT_EQ(Must(s->TryNumber((*c4)->attempt_id)), 2);
  EXPECT_EQ(Must(s->TryNumber((*c2)->attempt_id)), 1);
}

TEST(Store, AttemptsRecordTheirWorkerAndRunsTheirLease) {
  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(1));
  Owner me{"host", getpid(), 5, "pid:[42]"};
  int64_t run = *s->BeginRun(sweep, me, "{}", 60);
  auto r = Must(s->FindRun(run));
  ASSERT_TRUE(r && r->lease_expires_s && r->heartbeat_s);
  EXPECT_NEAR(*r->lease_expires_s - *r->heartbeat_s, 60, 1e-6);
  EXPECT_EQ(r->owner.pid_ns, "pid:[42]");
  ASSERT_TRUE(s->RenewLease(run, 5).ok());
  r = Must(s->FindRun(run));
  EXPECT_NEAR(*r->lease_expires_s - *r->heartbeat_s, 5, 1e-6);
  auto c = s->ClaimNext(sweep, run, me, "cpu:0", DirFor);
  ASSERT_TRUE(c.ok() && c->has_value());
  ASSERT_TRUE(s->SetAttemptWorker((*c)->attempt_id, "/x/worker.log", 4242, 777).ok());
  auto a = Must(s->FindAttempt((*c)->attempt_id));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->worker_pid, 4242);
  EXPECT_EQ(a->worker_pid_start, 777);
  EXPECT_EQ(a->log_path, "/x/worker.log");
}

TEST(Store, AFailingAttemptDirectoryRollsTheClaimBack) {
  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(1));
  int64_t run = *s->BeginRun(sweep, Me(), "{}");
  auto c = s->ClaimNext(sweep, run, Me(), "cpu:0", [](const std::string&, int) {
    return StatusOr<std::string>(Status::Resource("disk full"));
  });
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsResource());
  EXPECT_EQ(Must(s->Counts(sweep))[0].pending, 1);
  EXPECT_TRUE(Must(s->UnfinishedAttempts()).empty());
}

// Schema v1 -> v2 adds the lease and worker columns in one transaction; rows are kept.
TEST(Store, MigratesAVersionOneDatabaseAndKeepsItsData) {
  TempDir d;
  std::string path = d / "orch.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 1, R"sql(
INSERT INTO sweeps(id, name, spec_path, spec_text, spec_hash, created_utc, updated_utc)
  VALUES(1, 'old', '/x.yaml', 'name: old', 'h', 't', 't');
INSERT INTO studies(sweep_id, study_id, position, title) VALUES(1, 'A', 0, 'A');
INSERT INTO trials(key, config_json, state, attempts, updated_utc)
  VALUES('aaaa', '{}', 'running', 1, 't');
INSERT INTO memberships(sweep_id, study_id, trial_key, position) VALUES(1, 'A', 'aaaa', 0);
INSERT INTO runs(id, sweep_id, host, pid, pid_start, started_utc) VALUES(1, 1, 'h', 99, 3, 't');
INSERT INTO attempts(trial_key, number, run_id, host, pid, pid_start, started_utc)
  VALUES('aaaa', 1, 1, 'h', 99, 3, 't');
)sql"));
  // A reader (orch status after an upgrade) migrates it as well.
  auto s = Store::Open(path, OpenMode::kReadOnly);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(Must((*s)->schema_version()), kSchemaVersion);
  EXPECT_TRUE((*s)->IntegrityCheck().ok());
  auto sweep = Must((*s)->FindSweep("old"));
  ASSERT_TRUE(sweep);
  EXPECT_EQ(Must((*s)->Counts(sweep->id))[0].running, 1);
  auto run = Must((*s)->FindRun(1));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->owner.pid, 99);
  EXPECT_FALSE(run->lease_expires_s);  // a v1 run holds no lease
  auto unfinished = Must((*s)->UnfinishedAttempts());
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].worker_pid, 0);
}

// F9: a build of the SLURM branch numbered the job-id step 3 (user_version 3 with
// attempts.job_id and runs.cancel_requested, without the replicate columns). Step 4 used
// to fail on it ("duplicate column name: job_id") and every command refused the file.
TEST(Store, ADatabaseWhoseStepThreeWasTheJobIdStepMigratesForward) {
  TempDir d;
  std::string path = d / "orch.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 2, R"sql(
ALTER TABLE attempts ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX attempts_job ON attempts(job_id) WHERE job_id != '' AND finished = 0;
INSERT INTO sweeps(id, name, spec_path, spec_text, spec_hash, created_utc, updated_utc)
  VALUES(1, 'old', '/x.yaml', 'name: old', 'h', 't', 't');
INSERT INTO studies(sweep_id, study_id, position, title) VALUES(1, 'A', 0, 'A');
INSERT INTO trials(key, config_json, state, attempts, updated_utc)
  VALUES('aaaa', '{"repeats": 3}', 'pending', 0, 't');
INSERT INTO memberships(sweep_id, study_id, trial_key, position) VALUES(1, 'A', 'aaaa', 0);
PRAGMA user_version = 3;
)sql"));
  auto s = Store::Open(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(Must((*s)->schema_version()), kSchemaVersion);
  EXPECT_TRUE((*s)->IntegrityCheck().ok());
  auto trial = (*s)->FindTrial("aaaa");
  ASSERT_TRUE(trial.ok()) << trial.status().message();
  EXPECT_EQ(trial->replicates, 3);  // step 3's columns were added and filled
  int64_t run = *(*s)->BeginRun(1, Me(), "{}");
  auto c = (*s)->ClaimNext(1, run, Me(), "cpu:0", DirFor);
  ASSERT_TRUE(c.ok() && c->has_value()) << c.status().message();
  EXPECT_EQ((*c)->replicate, 1);
  EXPECT_TRUE((*s)->SetAttemptJob((*c)->attempt_id, "12345_1").ok());
}

// S1: a read that fails (here: a table renamed under it) reports the error; it used to
// read as "no rows" or 0, and `orch run` then said "nothing to run" and exited 0.
TEST(Store, AFailedReadIsAnErrorNotAnEmptyResult) {
  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(2));
  ASSERT_EQ(Must(s->UnfinishedCount(sweep)), 2);
  SetPragma(d / "orch.db", "ALTER TABLE memberships RENAME TO memberships_gone");
  auto count = s->UnfinishedCount(sweep);
  EXPECT_FALSE(count.ok());
  EXPECT_NE(count.status().message().find("memberships"), std::string::npos)
      << count.status().message();
  EXPECT_FALSE(s->Trials(sweep).ok());
  // The counts live in their own table (kept by triggers): losing it is an error too.
  ASSERT_TRUE(s->Counts(sweep).ok());
  SetPragma(d / "orch.db", "ALTER TABLE study_counts RENAME TO study_counts_gone");
  EXPECT_FALSE(s->Counts(sweep).ok());
  EXPECT_FALSE(s->MedianOkDuration(sweep).ok());
}

// S2: reads inside BeginRead see one state of the database while another process
// commits; the next read after it ends sees the new state.
TEST(Store, AReadSnapshotSeesOneStateOfTheDatabase) {
  TempDir d;
  auto writer = std::move(Store::Open(d / "orch.db")).value();
  ASSERT_TRUE(writer->UpsertSweep(Sweep(1, "one")).ok());
  auto reader = std::move(Store::Open(d / "orch.db", OpenMode::kReadOnly)).value();
  {
    auto snapshot = reader->BeginRead();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
    ASSERT_TRUE(writer->UpsertSweep(Sweep(1, "two")).ok());
    EXPECT_EQ(Must(reader->ListSweeps()).size(), 1u);
  }
  EXPECT_EQ(Must(reader->ListSweeps()).size(), 2u);
}

// F14: `orch compare --against-db OLD` read OLD by migrating it in place. Opened never to
// write, an older file is read through a migrated copy in memory; its bytes stay.
TEST(Store, AnOlderDatabaseOpenedNeverToWriteIsReadAndLeftAsItWas) {
  TempDir d;
  std::string path = d / "old.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 3, R"sql(
INSERT INTO sweeps(id, name, spec_path, spec_text, spec_hash, created_utc, updated_utc)
  VALUES(1, 'old', '/x.yaml', 'name: old', 'h', 't', 't');
INSERT INTO studies(sweep_id, study_id, position, title) VALUES(1, 'A', 0, 'A');
INSERT INTO trials(key, config_json, state, attempts, updated_utc)
  VALUES('aaaa', '{}', 'pending', 0, 't');
INSERT INTO memberships(sweep_id, study_id, trial_key, position) VALUES(1, 'A', 'aaaa', 0);
)sql"));
  auto bytes = [&] {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  std::string before = bytes();
  {
    auto s = Store::Open(path, OpenMode::kNeverWrite);
    ASSERT_TRUE(s.ok()) << s.status().message();
    auto sweep = Must((*s)->FindSweep("old"));
    ASSERT_TRUE(sweep);
    EXPECT_EQ(Must((*s)->Trials(sweep->id)).size(), 1u);
  }
  EXPECT_EQ(bytes(), before);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  // A current database is read in place, read-only.
  auto current = Store::Open(d / "new.db");
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE((*current)->UpsertSweep(Sweep(1, "new")).ok());
  current->reset();
  auto s = Store::Open(d / "new.db", OpenMode::kNeverWrite);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(Must((*s)->FindSweep("new")));
  EXPECT_FALSE((*s)->UpsertSweep(Sweep(1, "other")).ok());
}

// SQLite result codes become Status codes: the scheduler tells a full disk from a bug.
TEST(Store, SqliteErrorsCarryTheirCode) {
  EXPECT_TRUE(SqliteStatus(SQLITE_BUSY, "x").IsBusy());
  EXPECT_TRUE(SqliteStatus(SQLITE_LOCKED, "x").IsBusy());
  EXPECT_TRUE(SqliteStatus(SQLITE_FULL, "x").IsResource());
  EXPECT_EQ(SqliteStatus(SQLITE_IOERR_WRITE, "x").code(), Status::Code::kIOError);
  EXPECT_EQ(SqliteStatus(SQLITE_CORRUPT, "x").code(), Status::Code::kCorruption);
  EXPECT_EQ(SqliteStatus(SQLITE_CONSTRAINT, "x").code(), Status::Code::kError);

  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(1));
  int64_t run = *s->BeginRun(sweep, Me(), "{}");
  sqlite3* other;
  ASSERT_EQ(sqlite3_open((d / "orch.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  s->SetBusyTimeout(50);
  auto c = s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsBusy()) << c.status().message();
  EXPECT_TRUE(s->RenewLease(run, 60).IsBusy());
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(s->ClaimNext(sweep, run, Me(), "cpu:0", DirFor).ok());
}

TEST(Store, EditedSpecKeepsOldCellsAsStale) {
  TempDir d;
  auto s = std::move(Store::Open(d / "orch.db")).value();
  int64_t sweep = *s->UpsertSweep(Sweep(3));
  SweepDef smaller = Sweep(2);
  smaller.studies[0].cells.push_back({std::string(64, 'f'), "{}"});
  ASSERT_EQ(*s->UpsertSweep(smaller), sweep);
  auto counts = Must(s->Counts(sweep));
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].pending, 3);
  EXPECT_EQ(counts[0].stale, 1);
  EXPECT_EQ(Must(s->UnfinishedCount(sweep)), 3);
}

TEST(Store, TwoProcessesNeverClaimTheSameTrial) {
  TempDir d;
  const int kTrials = 1000;
  {
    auto s = std::move(Store::Open(d / "orch.db")).value();
    ASSERT_TRUE(s->UpsertSweep(Sweep(kTrials)).ok());
  }
  int fds[2][2];
  int go[2];  // both children start claiming at once, so their claims interleave
  ASSERT_EQ(pipe(go), 0);
  pid_t pids[2];
  for (int p = 0; p < 2; ++p) {
    ASSERT_EQ(pipe(fds[p]), 0);
    pids[p] = fork();
    if (pids[p] == 0) {
      close(fds[p][0]);
      close(go[1]);
      auto s = std::move(Store::Open(d / "orch.db")).value();
      char c;
      if (read(go[0], &c, 1) != 0) _exit(5);  // EOF when the parent closes its end
      int64_t sweep = Must(s->FindSweep("s"))->id;
      Owner me{"host", getpid(), 1};
      int64_t run = *s->BeginRun(sweep, me, "{}");
      while (true) {
        auto c = s->ClaimNext(sweep, run, me, "cpu:0", DirFor);
        if (!c.ok()) _exit(3);
        if (!c->has_value()) break;
        std::string line = (*c)->trial_key + "\n";
        if (write(fds[p][1], line.data(), line.size()) < 0) _exit(4);
      }
      _exit(0);
    }
    close(fds[p][1]);
  }
  close(go[0]);
  close(go[1]);
  std::multiset<std::string> claimed;
  for (int p = 0; p < 2; ++p) {
    std::string data;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[p][0], buf, sizeof(buf))) > 0) data.append(buf, n);
    close(fds[p][0]);
    int status;
    waitpid(pids[p], &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (size_t pos = 0; pos + 64 <= data.size(); pos += 65) claimed.insert(data.substr(pos, 64));
  }
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTrials));
  std::set<std::string> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kTrials));
}

}  // namespace
}  // namespace orch::store
