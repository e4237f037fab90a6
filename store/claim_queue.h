// ClaimQueue: the claim order of store/claim_order.h kept as an index, so that a claim is
// one indexed lookup instead of a sort of every pending trial (issue 18). A *plan* is
// what one `orch run` expanded: the sweep's cells in spec order under one plan hash. Each
// cell of a plan is a row of `claim_queue` holding its position in the plan, and, while
// its trial is pending, its round (the replicate a claim would measure: ok attempts + 1)
// and its rank within the round ("" in spec order, RandomRank under "random:SEED").
// The index on (plan, round, rank, position) makes the first row the next claim, exactly
// as PickNextReplicate would choose among the plan's pending cells.
//
// Every write that changes a trial's state or its ok count calls RequeueTrial inside the
// same transaction, so the queue is never out of step with `trials`. Internal to store/;
// callers hold the connection's transaction.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/statement.h"

namespace orch::store {

// Starts recording the plan (sweep, plan_hash): creates it, or empties the rows of an
// existing plan of that hash. Returns the plan's id.
StatusOr<int64_t> BeginPlan(sqlite3* db, int64_t sweep_id, const std::string& plan_hash,
                            const std::string& claim_order);

// Writes a plan's cells one by one in spec order after BeginPlan (a key that appears
// again, a cell in several studies, keeps its first position): nothing of the plan is
// held, so a 100,000-cell plan is recorded in constant memory (issue 18).
class PlanWriter {
 public:
  PlanWriter(sqlite3* db, int64_t plan_id, std::string claim_order);
  ~PlanWriter();
  PlanWriter(const PlanWriter&) = delete;
  PlanWriter& operator=(const PlanWriter&) = delete;
  // The trial `key` must exist: its state decides the row's round and rank.
  Status Add(const std::string& key);

 private:
  sqlite3* db_;
  int64_t plan_id_;
  std::string order_;
  int64_t next_pos_ = 0;
  Statement insert_;
  Statement round_;
};

// Records the plan (sweep, plan_hash): its cells are `keys` in spec order (a key that
// appears again, a cell in several studies, keeps its first position). Replaces the
// rows of an existing plan of that hash. Returns the plan's id.
StatusOr<int64_t> RecordPlan(sqlite3* db, int64_t sweep_id, const std::string& plan_hash,
                             const std::string& claim_order,
                             const std::vector<std::string>& keys);

// Drops the sweep's plans other than `keep` that no live run (unfinished, lease not
// expired at `now_s`) claims from.
Status DropUnusedPlans(sqlite3* db, int64_t sweep_id, int64_t keep, double now_s);

// The plan with this hash, or the sweep's current one (sweeps.plan_hash) when nullopt;
// nullopt when there is none.
StatusOr<std::optional<int64_t>> FindPlan(sqlite3* db, int64_t sweep_id,
                                          const std::optional<std::string>& plan_hash);

// The plan run `run_id` claims from: the one it began with, or, for runs recorded before
// plans existed, the sweep's current plan.
StatusOr<std::optional<int64_t>> PlanOfRun(sqlite3* db, int64_t run_id, int64_t sweep_id);

// Recomputes the trial's round and rank in every plan that holds it (held rows stay out).
Status RequeueTrial(sqlite3* db, const std::string& key);

// The plan's next claim: its pending cell of lowest (round, rank, position).
struct QueueHead {
  std::string trial_key;
  int round = 1;
};
StatusOr<std::optional<QueueHead>> PeekQueue(sqlite3* db, int64_t plan_id);

// Cells of the plan whose trial is not done, not held and held.
struct PlanLeft {
  int64_t unfinished = 0;
  int64_t held = 0;
};
StatusOr<PlanLeft> PlanUnfinished(sqlite3* db, int64_t plan_id);

// `orch cancel --study`: holds the study's cells in the plans of the sweep's live runs
// (they are not claimed); returns how many live runs were asked.
StatusOr<int> HoldStudy(sqlite3* db, int64_t sweep_id, const std::string& study_id);
// Releases the plan's held cells into the queue again (a new run of the plan).
Status ReleaseHeld(sqlite3* db, int64_t plan_id);
// Whether the trial's cell is held in the plan.
StatusOr<bool> IsHeld(sqlite3* db, int64_t plan_id, const std::string& key);

// Schema step 5: one plan per sweep (its recorded plan hash and order) from its in-spec
// memberships in spec order, so databases of an older orch claim through the queue.
Status BuildPlansFromMemberships(sqlite3* db);

}  // namespace orch::store
