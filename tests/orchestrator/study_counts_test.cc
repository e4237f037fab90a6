// The study counts the database keeps by trigger (store/study_counts.h) equal a recount
// of the trials after any sequence of the store's writes, and a count that drifted is
// reported by IntegrityCheck.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>
#include <string>
#include <vector>

#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"
#include "tests/orchestrator/store_fixture.h"

namespace orch::store {
namespace {

using orch::testing::TempDir;
using testing::Key;
using testing::Me;

// Two studies over cells [first, first + n): study B shares every third cell with A
// (one trial in two studies), replicates 1..3.
SweepDef Sweep(int first, int n) {
  SweepDef d = testing::BareSweep("s", "h" + std::to_string(first) + "_" + std::to_string(n));
  d.plan_hash = d.spec_hash;
  for (const char* id : {"A", "B"}) {
    StudyDef st;
    st.id = id;
    st.title = id;
    for (int i = first; i < first + n; ++i) {
      if (std::string(id) == "B" && i % 3 != 0) continue;
      st.cells.push_back({Key(i), "{\"i\":" + std::to_string(i) + "}", "", 1 + i % 3});
    }
    d.studies.push_back(st);
  }
  return d;
}

StatusOr<std::string> DirFor(const std::string& key, int n) {
  return "/runs/" + key + "/" + std::to_string(n);
}

// Every count against the recount; the first difference is the failure.
void ExpectCountsWhole(const Store& db, const std::string& when) {
  Status s = db.IntegrityCheck();
  EXPECT_TRUE(s.ok()) << when << ": " << s.message();
}

TEST(StudyCounts, EqualARecountAfterAnySequenceOfWrites) {
  TempDir d;
  auto db = std::move(Store::Open(d / "orch.db")).value();
  std::mt19937 rng(7);
  int64_t sweep = Must(db->UpsertSweep(Sweep(0, 30)));
  int64_t run = Must(db->BeginRun(sweep, Me(), "{}"));
  const char* outcomes[] = {"ok", "ok", "ok", "failed", "nan", "oom"};
  std::vector<Claim> running;
  for (int step = 0; step < 400; ++step) {
    int op = static_cast<int>(rng() % 10);
    std::string what = "step " + std::to_string(step) + " op " + std::to_string(op);
    if (op < 4 || running.empty()) {  // claim
      auto c = Must(db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor));
      if (c) running.push_back(*c);
    } else if (op < 8) {  // finish: terminal or a retry
      size_t i = rng() % running.size();
      AttemptResult r;
      r.attempt_id = running[i].attempt_id;
      r.outcome = outcomes[rng() % 6];
      r.terminal = r.outcome == "ok" || rng() % 2 == 0;
      r.samples = {{0, 0, 1.0, 0.5, false}};
      ASSERT_TRUE(db->FinishAttempt(r).ok()) << what;
      running.erase(running.begin() + static_cast<long>(i));
    } else if (op == 8) {  // interrupt (a dead worker, a cancel)
      size_t i = rng() % running.size();
      ASSERT_TRUE(db->InterruptAttempt(running[i].attempt_id, "test").ok()) << what;
      running.erase(running.begin() + static_cast<long>(i));
    } else {  // --retry-failed, or an edited spec (cells leave, others arrive)
      for (const Claim& c : running) ASSERT_TRUE(db->InterruptAttempt(c.attempt_id, "x").ok());
      running.clear();
      if (rng() % 2) {
        Must(db->ResetFailed(sweep));
      } else {
        ASSERT_TRUE(db->EndRun(run, 0).ok());
        int first = static_cast<int>(rng() % 10);
        sweep = Must(db->UpsertSweep(Sweep(first, 20 + static_cast<int>(rng() % 15))));
        run = Must(db->BeginRun(sweep, Me(), "{}"));
      }
    }
    ExpectCountsWhole(*db, what);
    if (::testing::Test::HasFailure()) return;
  }
  // And the sweep got somewhere: done cells of several outcomes, stale ones, replicates.
  auto counts = Must(db->Counts(sweep));
  int done = 0, stale = 0;
  for (const auto& c : counts) {
    for (const auto& [outcome, n] : c.done) done += n;
    stale += c.stale;
  }
  EXPECT_GT(done, 5);
  EXPECT_GT(stale, 0);
}

TEST(StudyCounts, ACountThatDriftedIsReportedByTheIntegrityCheck) {
  TempDir d;
  const std::string path = d / "orch.db";
  {
    auto db = std::move(Store::Open(path)).value();
    Must(db->UpsertSweep(Sweep(0, 6)));
    ExpectCountsWhole(*db, "planned");
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE study_counts SET trials = trials + 1 WHERE study_id = 'B'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto db = std::move(Store::Open(path)).value();
  Status s = db->IntegrityCheck();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("study B"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace orch::store
