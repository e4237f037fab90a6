// The store's executor job ids and cancel requests (schema v4): the migration from v3
// keeps every row, and the new columns read and write.
#include <gtest/gtest.h>

#include "old_database.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"

namespace orch::store {
namespace {

using orch::testing::TempDir;

// Schema v3 -> v4 adds attempts.job_id and runs.cancel_requested in one transaction.
TEST(StoreJobs, MigratesAVersionThreeDatabaseAndKeepsItsData) {
  TempDir d;
  std::string path = d / "orch.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 3, R"sql(
INSERT INTO sweeps(id, name, spec_path, spec_text, spec_hash, created_utc, updated_utc)
  VALUES(1, 'old', '/x.yaml', 'name: old', 'h', 't', 't');
INSERT INTO studies(sweep_id, study_id, position, title) VALUES(1, 'A', 0, 'A');
INSERT INTO trials(key, config_json, state, attempts, updated_utc)
  VALUES('aaaa', '{}', 'running', 1, 't');
INSERT INTO memberships(sweep_id, study_id, trial_key, position) VALUES(1, 'A', 'aaaa', 0);
INSERT INTO runs(id, sweep_id, host, pid, pid_start, started_utc, pid_ns, lease_expires_s)
  VALUES(1, 1, 'h', 99, 3, 't', 'pid:[1]', 5.0);
INSERT INTO attempts(trial_key, number, run_id, host, pid, pid_start, started_utc, worker_pid)
  VALUES('aaaa', 1, 1, 'h', 99, 3, 't', 1234);
)sql"));
  auto s = Store::Open(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(Must((*s)->schema_version()), kSchemaVersion);
  EXPECT_TRUE((*s)->IntegrityCheck().ok());
  auto unfinished = Must((*s)->UnfinishedAttempts());
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].worker_pid, 1234);
  EXPECT_EQ(unfinished[0].job_id, "");  // a local attempt
  auto run = Must((*s)->FindRun(1));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->owner.pid_ns, "pid:[1]");
  EXPECT_FALSE(Must((*s)->CancelRequested(1)));

  ASSERT_TRUE((*s)->SetAttemptJob(unfinished[0].id, "4242_7").ok());
  EXPECT_EQ(Must((*s)->FindAttempt(unfinished[0].id))->job_id, "4242_7");
  // The run is live (no finished_utc): a cancel request reaches it.
  auto asked = (*s)->RequestCancel(1);
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ(*asked, 1);
  EXPECT_TRUE(Must((*s)->CancelRequested(1)));
  ASSERT_TRUE((*s)->EndRun(1, 0).ok());
  EXPECT_EQ(*(*s)->RequestCancel(1), 0);  // an ended run is not asked again
}

}  // namespace
}  // namespace orch::store
