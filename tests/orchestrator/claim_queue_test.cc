// The claim queue (store/claim_queue.h): claims through the index choose exactly what
// PickNextReplicate (the reference, store/claim_order.h) chooses among the pending cells,
// on random sweeps and random outcomes; the work of a claim does not grow with the sweep;
// a run claims only the cells of its own plan (issue 17, F6).
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/claim_order.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"
#include "tests/orchestrator/store_fixture.h"

namespace orch::store {
namespace {

using orch::testing::TempDir;
using testing::Key;
using testing::Me;

StatusOr<std::string> DirFor(const std::string& key, int n) {
  return "/runs/" + key + "/" + std::to_string(n);
}

CellDef Cell(int i, int replicates) {
  return {Key(i), "{\"i\":" + std::to_string(i) + "}", "", replicates};
}

// What the reference picks now: the sweep's pending in-spec cells, each trial at its
// first membership in spec order, handed to PickNextReplicate.
std::optional<ClaimCandidate> Reference(const Store& db, int64_t sweep, const std::string& order) {
  std::vector<ClaimCandidate> candidates;
  std::set<std::string> seen;
  for (const TrialRecord& t : Must(db.Trials(sweep))) {
    if (!t.in_spec || !seen.insert(t.key).second) continue;
    if (t.state != TrialState::kPending) continue;
    ClaimCandidate c;
    c.trial_key = t.key;
    c.replicate = t.ok_replicates + 1;
    c.replicates = t.replicates;
    c.spec_index = static_cast<int>(candidates.size());
    candidates.push_back(c);
  }
  return PickNextReplicate(candidates, order);
}

SweepDef RandomSweep(std::mt19937& rng, const std::string& order) {
  SweepDef d = testing::BareSweep();
  d.plan_hash = "p";
  d.claim_order = order;
  int studies = 1 + static_cast<int>(rng() % 3);
  for (int s = 0; s < studies; ++s) {
    StudyDef st;
    st.id = std::string(1, static_cast<char>('A' + s));
    st.title = st.id;
    std::set<int> used;
    int cells = 1 + static_cast<int>(rng() % 8);
    for (int j = 0; j < cells; ++j) {
      int i = static_cast<int>(rng() % 12);  // a small pool: cells shared across studies
      if (!used.insert(i).second) continue;
      st.cells.push_back(Cell(i, 1 + i % 3));  // a trial's target is a property of its key
    }
    d.studies.push_back(st);
  }
  return d;
}

TEST(ClaimQueue, ClaimsAsTheReferenceOrderOnRandomSweepsAndOutcomes) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("case " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::string order = seed % 2 ? "interleaved" : "random:" + std::to_string(seed * 7919);
    TempDir dir;
    auto db = std::move(Store::Open(dir / "orch.db")).value();
    int64_t sweep = *db->UpsertSweep(RandomSweep(rng, order));
    int64_t run = *db->BeginRun(sweep, Me(), "{}");
    std::vector<Claim> running;
    int steps = 0;
    for (; steps < 400; ++steps) {
      // Several slots: claim while fewer than 3 run, else finish one at random.
      bool claim = running.size() < 3 && rng() % 3 != 0;
      if (claim) {
        auto expected = Reference(*db, sweep, order);
        auto got = db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
        ASSERT_TRUE(got.ok()) << got.status().message();
        ASSERT_EQ(expected.has_value(), got->has_value());
        if (!expected) {
          if (running.empty() && rng() % 2 == 0) {
            auto reset = db->ResetFailed(sweep);
            ASSERT_TRUE(reset.ok());
            if (*reset == 0) break;
          }
          if (running.empty()) continue;
          claim = false;
        } else {
          EXPECT_EQ((*got)->trial_key, expected->trial_key);
          EXPECT_EQ((*got)->replicate, expected->replicate);
          EXPECT_EQ((*got)->replicates, expected->replicates);
          running.push_back(**got);
          continue;
        }
      }
      if (running.empty()) continue;
      size_t i = rng() % running.size();
      Claim c = running[i];
      running.erase(running.begin() + static_cast<long>(i));
      int roll = static_cast<int>(rng() % 10);
      if (roll == 0) {
        ASSERT_TRUE(db->InterruptAttempt(c.attempt_id, "test").ok());
        continue;
      }
      AttemptResult r;
      r.attempt_id = c.attempt_id;
      r.outcome = roll == 1 ? "oom" : roll == 2 ? "crash" : "ok";
      r.terminal = roll != 2;  // a crash retries the replicate
      ASSERT_TRUE(db->FinishAttempt(r).ok());
    }
    EXPECT_LT(steps, 400) << "the sweep never ended";
  }
}

TEST(ClaimQueue, AClaimDoesNotCostMoreInALargerSweep) {
  // SQLite instructions spent on 40 claims from a sweep of 200 cells and of 4000: a
  // claim that sorts the pending set costs ~20x more in the larger one; an indexed one
  // about the same.
  auto work = [](int cells) {
    TempDir dir;
    auto db = std::move(Store::Open(dir / "orch.db")).value();
    SweepDef d = testing::BareSweep();
    StudyDef st;
    st.id = "A";
    st.title = "A";
    for (int i = 0; i < cells; ++i) st.cells.push_back(Cell(i, 2));
    d.studies.push_back(st);
    int64_t sweep = *db->UpsertSweep(d);
    int64_t run = *db->BeginRun(sweep, Me(), "{}");
    uint64_t counter = 0;
    db->CountSqlWork(&counter);
    for (int i = 0; i < 40; ++i) {
      auto c = db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
      EXPECT_TRUE(c.ok() && c->has_value());
      AttemptResult r;
      r.attempt_id = (*c)->attempt_id;
      r.outcome = "ok";
      EXPECT_TRUE(db->FinishAttempt(r).ok());
    }
    db->CountSqlWork(nullptr);
    return counter;
  };
  uint64_t small = work(200), large = work(4000);
  EXPECT_LT(static_cast<double>(large), 2.0 * static_cast<double>(small))
      << "200 cells: " << small << " instructions, 4000 cells: " << large;
}

SweepDef Plan(const std::string& hash, int first, int n) {
  SweepDef d;
  d.name = "edited";
  d.spec_path = "/x/spec.yaml";
  d.spec_text = "name: edited # " + hash;
  d.spec_hash = hash;
  d.plan_hash = hash;
  StudyDef st;
  st.id = "A";
  st.title = "A";
  for (int i = first; i < first + n; ++i) st.cells.push_back(Cell(i, 1));
  d.studies.push_back(st);
  return d;
}

TEST(ClaimQueue, ARunClaimsOnlyTheCellsOfItsOwnPlan) {
  TempDir dir;
  auto db = std::move(Store::Open(dir / "orch.db")).value();
  int64_t sweep = *db->UpsertSweep(Plan("p1", 0, 3));
  int64_t first = *db->BeginRun(sweep, Me(), "{}", 60, std::string("p1"));
  // Another orch edits the spec (another dataset: other keys) and starts its own run.
  ASSERT_EQ(*db->UpsertSweep(Plan("p2", 10, 3)), sweep);
  int64_t second = *db->BeginRun(sweep, Me(), "{}", 60, std::string("p2"));
  std::set<std::string> mine, theirs;
  for (int i = 0; i < 3; ++i) mine.insert(Key(i));
  for (int i = 10; i < 13; ++i) theirs.insert(Key(i));
  auto drain = [&](int64_t run, const std::set<std::string>& own) {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(Must(db->RunUnfinishedCount(run)).unfinished, 3 - i);
      auto c = db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
      ASSERT_TRUE(c.ok() && c->has_value());
      EXPECT_TRUE(own.count((*c)->trial_key)) << (*c)->trial_key;
      AttemptResult r;
      r.attempt_id = (*c)->attempt_id;
      r.outcome = "ok";
      ASSERT_TRUE(db->FinishAttempt(r).ok());
    }
    auto none = db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    EXPECT_EQ(Must(db->RunUnfinishedCount(run)).unfinished, 0);
  };
  drain(first, mine);
  drain(second, theirs);
  // A run of a plan that another orch has replaced (and no live run uses) is refused.
  ASSERT_TRUE(db->EndRun(first, 0).ok());
  ASSERT_TRUE(db->EndRun(second, 0).ok());
  ASSERT_TRUE(db->UpsertSweep(Plan("p3", 20, 1)).ok());
  EXPECT_FALSE(db->BeginRun(sweep, Me(), "{}", 60, std::string("p1")).ok());
}

// F11: `orch cancel --study B` stopped the whole run. Now the live run no longer claims
// B's cells (and stops its running ones), goes on with A's, and says B's are left; a
// later run of the plan (`orch resume`) claims them again.
TEST(ClaimQueue, ACancelledStudyIsNoLongerClaimedAndTheRunGoesOn) {
  TempDir dir;
  auto db = std::move(Store::Open(dir / "orch.db")).value();
  SweepDef d = Plan("p", 0, 2);
  StudyDef b;
  b.id = "B";
  b.title = "B";
  for (int i = 10; i < 13; ++i) b.cells.push_back(Cell(i, 1));
  d.studies.push_back(b);
  int64_t sweep = *db->UpsertSweep(d);
  int64_t run = *db->BeginRun(sweep, Me(), "{}");
  auto first = db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);  // A's first cell
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_EQ(Must(db->RequestCancel(sweep, "B")), 1);
  EXPECT_FALSE(Must(db->CancelRequested(run)));  // the run itself goes on
  EXPECT_TRUE(Must(db->Held(run, Key(10))));
  EXPECT_FALSE(Must(db->Held(run, Key(1))));
  std::vector<std::string> claimed;
  while (true) {
    auto c = db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
    ASSERT_TRUE(c.ok());
    if (!c->has_value()) break;
    claimed.push_back((*c)->trial_key);
    AttemptResult r;
    r.attempt_id = (*c)->attempt_id;
    r.outcome = "ok";
    ASSERT_TRUE(db->FinishAttempt(r).ok());
  }
  EXPECT_EQ(claimed, std::vector<std::string>{Key(1)});
  AttemptResult r;
  r.attempt_id = (*first)->attempt_id;
  r.outcome = "ok";
  ASSERT_TRUE(db->FinishAttempt(r).ok());
  auto left = Must(db->RunUnfinishedCount(run));
  EXPECT_EQ(left.unfinished, 0);
  EXPECT_EQ(left.cancelled, 3);
  ASSERT_TRUE(db->EndRun(run, 130).ok());
  int64_t resumed = *db->BeginRun(sweep, Me(), "{}");
  EXPECT_FALSE(Must(db->Held(resumed, Key(10))));
  int more = 0;
  while (true) {
    auto c = db->ClaimNext(sweep, resumed, Me(), "cpu:0", DirFor);
    ASSERT_TRUE(c.ok());
    if (!c->has_value()) break;
    ++more;
    AttemptResult ok;
    ok.attempt_id = (*c)->attempt_id;
    ok.outcome = "ok";
    ASSERT_TRUE(db->FinishAttempt(ok).ok());
  }
  EXPECT_EQ(more, 3);
}

}  // namespace
}  // namespace orch::store
