// Replicates (issue 13): `repeats: N` is N attempts of one trial, each a fresh worker
// process; claims go round by round over the cells (claim_order.h); a trial is done after
// N ok replicates or at its first terminal failure; interrupted replicates are run again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/claim_order.h"
#include "store/store.h"
#include "old_database.h"
#include "test_util.h"
#include "tests/orchestrator/must.h"
#include "tests/orchestrator/store_fixture.h"

namespace orch::store {
namespace {

using orch::testing::TempDir;
using testing::Key;
using testing::Me;

// One study of `cells` cells, each needing `replicates` replicates.
SweepDef Sweep(int cells, int replicates, const std::string& order = "interleaved") {
  SweepDef d = testing::BareSweep();
  d.claim_order = order;
  StudyDef st;
  st.id = "A";
  st.title = "t";
  for (int i = 0; i < cells; ++i) {
    st.cells.push_back({Key(i), "{\"i\":" + std::to_string(i) + "}", "", replicates});
  }
  d.studies.push_back(st);
  return d;
}

StatusOr<std::string> DirFor(const std::string& key, int n) {
  return "/runs/" + key + "/" + std::to_string(n);
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Store> db;
  int64_t sweep = 0, run = 0;
  explicit Fixture(const SweepDef& def) {
    db = std::move(Store::Open(dir / "orch.db")).value();
    sweep = *db->UpsertSweep(def);
    run = *db->BeginRun(sweep, Me(), "{}");
  }
  std::optional<store::Claim> Next() {
    auto c = db->ClaimNext(sweep, run, Me(), "cpu:0", DirFor);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : std::nullopt;
  }
  void Finish(const store::Claim& c, const std::string& outcome, bool terminal = true) {
    AttemptResult r;
    r.attempt_id = c.attempt_id;
    r.outcome = outcome;
    r.terminal = terminal;
    r.samples = {{0, 0, 1.0, 0.5, false}};
    ASSERT_TRUE(db->FinishAttempt(r).ok());
  }
};

ClaimCandidate Cand(const std::string& key, int replicate, int index) {
  return {key, replicate, 3, index};
}

TEST(ClaimOrder, LowestReplicateFirstThenSpecOrder) {
  std::vector<ClaimCandidate> c = {Cand("a", 2, 0), Cand("b", 1, 1), Cand("c", 1, 2)};
  EXPECT_EQ(PickNextReplicate(c, "interleaved")->trial_key, "b");
  c[1].replicate = 3;
  EXPECT_EQ(PickNextReplicate(c, "interleaved")->trial_key, "c");
  EXPECT_FALSE(PickNextReplicate({}, "interleaved"));
}

TEST(ClaimOrder, RandomOrderIsSeededPerRoundAndReconstructible) {
  std::vector<ClaimCandidate> c;
  for (int i = 0; i < 8; ++i) c.push_back(Cand(Key(i), 1, i));
  // Within a round the order is the RandomRank order, whatever the spec order.
  auto pick = PickNextReplicate(c, "random:7");
  ASSERT_TRUE(pick);
  for (const auto& other : c) {
    EXPECT_LE(RandomRank(7, 1, pick->trial_key), RandomRank(7, 1, other.trial_key));
  }
  // Seeds give different orders (the first pick over 8 cells differs for some seed), and
  // the same seed the same one.
  std::set<std::string> firsts;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    firsts.insert(PickNextReplicate(c, "random:" + std::to_string(seed))->trial_key);
  }
  EXPECT_GT(firsts.size(), 1u);
  EXPECT_EQ(PickNextReplicate(c, "random:7")->trial_key, pick->trial_key);
  // The round still comes first.
  c[pick->spec_index].replicate = 2;
  EXPECT_NE(PickNextReplicate(c, "random:7")->trial_key, pick->trial_key);
}

TEST(ClaimOrder, ParsesOnlyTheRecordedForms) {
  EXPECT_FALSE(ParseClaimOrder("interleaved")->random);
  EXPECT_EQ(ParseClaimOrder("random:42")->seed, 42u);
  EXPECT_EQ(ClaimOrderText(*ParseClaimOrder("random:42")), "random:42");
  EXPECT_FALSE(ParseClaimOrder("random"));
  EXPECT_FALSE(ParseClaimOrder("random:-1"));
  EXPECT_FALSE(ParseClaimOrder("random:99999999999999999999"));
  EXPECT_FALSE(ParseClaimOrder("shuffled"));
}

TEST(Replicates, ClaimsGoRoundRobinOverTheCellsAndEachTrialEndsAtN) {
  Fixture f(Sweep(3, 2));
  std::vector<std::pair<std::string, int>> order;
  while (auto c = f.Next()) {
    order.emplace_back(c->trial_key, c->replicate);
    EXPECT_EQ(c->replicates, 2);
    EXPECT_EQ(c->try_number, 1);
    f.Finish(*c, "ok");
  }
  std::vector<std::pair<std::string, int>> want = {{Key(0), 1}, {Key(1), 1}, {Key(2), 1},
                                                   {Key(0), 2}, {Key(1), 2}, {Key(2), 2}};
  EXPECT_EQ(order, want);
  EXPECT_EQ(Must(f.db->UnfinishedCount(f.sweep)), 0);
  for (int i = 0; i < 3; ++i) {
    auto t = f.db->FindTrial(Key(i));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->outcome, "ok");
    EXPECT_EQ(t->ok_replicates, 2);
    auto attempts = Must(f.db->Attempts(Key(i)));
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0].replicate, 1);
    EXPECT_EQ(attempts[1].replicate, 2);
    EXPECT_EQ(t->final_attempt_id, attempts[1].id);
  }
  auto counts = Must(f.db->Counts(f.sweep));
  EXPECT_EQ(counts[0].replicates_ok, 6);
  EXPECT_EQ(counts[0].replicates_total, 6);
}

TEST(Replicates, ARandomOrderFollowsTheRecordedSeedRoundByRound) {
  Fixture f(Sweep(4, 2, "random:11"));
  EXPECT_EQ(Must(f.db->FindSweep("s"))->claim_order, "random:11");
  std::vector<std::pair<std::string, int>> order;
  while (auto c = f.Next()) {
    order.emplace_back(c->trial_key, c->replicate);
    f.Finish(*c, "ok");
  }
  ASSERT_EQ(order.size(), 8u);
  // Reconstructed from the seed alone: each round sorted by RandomRank.
  for (int round = 1; round <= 2; ++round) {
    std::vector<std::string> keys = {Key(0), Key(1), Key(2), Key(3)};
    std::sort(keys.begin(), keys.end(), [&](const std::string& a, const std::string& b) {
      return RandomRank(11, round, a) < RandomRank(11, round, b);
    });
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(order[(round - 1) * 4 + i], std::make_pair(keys[i], round));
    }
  }
}

// Two replicates of one cell never run at once: they would share the machine's state,
// which is what separate replicates are for.
TEST(Replicates, OneReplicateOfATrialRunsAtATime) {
  Fixture f(Sweep(1, 3));
  auto c = f.Next();
  ASSERT_TRUE(c);
  EXPECT_FALSE(f.Next());
  f.Finish(*c, "ok");
  auto c2 = f.Next();
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->replicate, 2);
}

TEST(Replicates, ATerminalFailureOfAReplicateFailsTheTrial) {
  Fixture f(Sweep(2, 3));
  auto a1 = f.Next();
  f.Finish(*a1, "ok");
  auto b1 = f.Next();
  f.Finish(*b1, "ok");
  auto a2 = f.Next();
  ASSERT_EQ(a2->trial_key, Key(0));
  f.Finish(*a2, "oom");  // terminal
  auto t = f.db->FindTrial(Key(0));
  EXPECT_EQ(t->state, TrialState::kDone);
  EXPECT_EQ(t->outcome, "oom");
  EXPECT_EQ(t->final_attempt_id, a2->attempt_id);
  // The remaining replicates of that trial are not run; the other trial's are.
  while (auto c = f.Next()) {
    EXPECT_EQ(c->trial_key, Key(1));
    f.Finish(*c, "ok");
  }
  EXPECT_EQ(Must(f.db->Attempts(Key(0))).size(), 2u);
  EXPECT_EQ(f.db->FindTrial(Key(1))->ok_replicates, 3);
}

// A transient failure retries the same replicate; each replicate has its own retry
// budget (ok replicates before it do not use it up).
TEST(Replicates, ATransientFailureRetriesThatReplicate) {
  Fixture f(Sweep(1, 3));
  f.Finish(*f.Next(), "ok");
  f.Finish(*f.Next(), "ok");
  auto c3 = f.Next();
  EXPECT_EQ(c3->replicate, 3);
  EXPECT_EQ(c3->try_number, 1);
  f.Finish(*c3, "crash", /*terminal=*/false);
  auto c4 = f.Next();
  ASSERT_TRUE(c4);
  EXPECT_EQ(c4->replicate, 3);
  EXPECT_EQ(c4->attempt_number, 4);
  EXPECT_EQ(c4->try_number, 2);
  EXPECT_EQ(Must(f.db->TryNumber(c4->attempt_id)), 2);
  f.Finish(*c4, "ok");
  auto t = f.db->FindTrial(Key(0));
  EXPECT_EQ(t->outcome, "ok");
  EXPECT_EQ(t->ok_replicates, 3);
}

// An interrupted replicate (orch killed, Ctrl-C) uses up nothing: the same replicate
// runs again, and the trial never gets more than N ok replicates.
TEST(Replicates, AnInterruptedReplicateRunsAgainAndTheCountStaysExact) {
  Fixture f(Sweep(1, 2));
  f.Finish(*f.Next(), "ok");
  auto c2 = f.Next();
  ASSERT_TRUE(f.db->InterruptAttempt(c2->attempt_id, "orch died").ok());
  auto c3 = f.Next();
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->replicate, 2);
  EXPECT_EQ(c3->try_number, 1);
  // A late result of the interrupted attempt is superseded: not a third ok replicate.
  AttemptResult late;
  late.attempt_id = c2->attempt_id;
  late.outcome = "ok";
  bool superseded = false;
  ASSERT_TRUE(f.db->FinishAttempt(late, &superseded).ok());
  EXPECT_TRUE(superseded);
  f.Finish(*c3, "ok");
  EXPECT_FALSE(f.Next());
  EXPECT_EQ(f.db->FindTrial(Key(0))->ok_replicates, 2);
}

// --retry-failed keeps the ok replicates of a failed trial and runs the missing ones.
TEST(Replicates, RetryFailedKeepsTheOkReplicates) {
  Fixture f(Sweep(1, 3));
  f.Finish(*f.Next(), "ok");
  f.Finish(*f.Next(), "error");
  EXPECT_FALSE(f.Next());
  ASSERT_EQ(*f.db->ResetFailed(f.sweep), 1);
  auto c = f.Next();
  EXPECT_EQ(c->replicate, 2);
  EXPECT_EQ(c->try_number, 1);
}

// Schema v2 -> v3: trials done ok before (repeats in one process) keep one replicate;
// unfinished ones need their config's `repeats`; old attempts measured replicate 1.
TEST(Replicates, MigrationKeepsOldResultsAsOneReplicate) {
  TempDir d;
  std::string path = d / "orch.db";
  ASSERT_TRUE(orch::testing::WriteOldDatabase(path, 2, R"sql(
INSERT INTO sweeps(id, name, spec_path, spec_text, spec_hash, created_utc, updated_utc)
  VALUES(1, 'old', '/x.yaml', 'name: old', 'h', 't', 't');
INSERT INTO studies(sweep_id, study_id, position, title) VALUES(1, 'A', 0, 'A');
INSERT INTO trials(key, config_json, state, outcome, attempts, updated_utc)
  VALUES('aaaa', '{"repeats":3}', 'done', 'ok', 1, 't'),
        ('bbbb', '{"repeats":3}', 'pending', '', 0, 't'),
        ('cccc', '{"repeats":2}', 'done', 'crash', 1, 't'),
        ('dddd', '{}', 'pending', '', 0, 't');
INSERT INTO memberships(sweep_id, study_id, trial_key, position) VALUES
  (1, 'A', 'aaaa', 0), (1, 'A', 'bbbb', 1), (1, 'A', 'cccc', 2), (1, 'A', 'dddd', 3);
INSERT INTO runs(id, sweep_id, host, pid, pid_start, started_utc) VALUES(1, 1, 'h', 99, 3, 't');
INSERT INTO attempts(trial_key, number, run_id, host, pid, pid_start, started_utc, finished,
  outcome) VALUES('aaaa', 1, 1, 'h', 99, 3, 't', 1, 'ok'), ('cccc', 1, 1, 'h', 99, 3, 't', 1, 'crash');
)sql"));
  auto s = Store::Open(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(Must((*s)->schema_version()), kSchemaVersion);
  EXPECT_TRUE((*s)->IntegrityCheck().ok());
  std::map<std::string, int> replicates;
  for (const auto& t : Must((*s)->Trials(1))) replicates[t.key] = t.replicates;
  EXPECT_EQ(replicates["aaaa"], 1);
  EXPECT_EQ(replicates["bbbb"], 3);
  EXPECT_EQ(replicates["cccc"], 2);
  EXPECT_EQ(replicates["dddd"], 1);
  EXPECT_EQ(Must((*s)->Attempts("aaaa"))[0].replicate, 1);
  EXPECT_EQ(Must((*s)->FindSweep("old"))->claim_order, "interleaved");
  EXPECT_EQ((*s)->FindTrial("aaaa")->ok_replicates, 1);
}

}  // namespace
}  // namespace orch::store
