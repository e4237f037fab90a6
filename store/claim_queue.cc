#include "store/claim_queue.h"

#include <tuple>
#include <utility>

#include "store/claim_order.h"
#include "store/statement.h"

namespace orch::store {
namespace {

constexpr const char* kPendingRoundSql =
    "SELECT t.state = 'pending', (SELECT count(*) FROM attempts o WHERE "
    "o.trial_key = t.key AND o.finished = 1 AND o.outcome = 'ok') "
    "FROM trials t WHERE t.key = ?1";

// The trial's round while it is pending (its ok attempts + 1), nullopt otherwise; `st`
// is a prepared kPendingRoundSql (prepared once for a whole plan).
StatusOr<std::optional<int>> PendingRound(Statement& st, const std::string& key) {
  st.Reset();
  st.Bind(1, key);
  if (!st.Step()) {
    if (!st.error().empty()) return st.status("reading a trial's round");
    return Status::Error("no trial " + key);
  }
  if (st.Int(0) == 0) return std::optional<int>();
  return std::optional<int>(static_cast<int>(st.Int(1)) + 1);
}

std::string Rank(const std::string& claim_order, int round, const std::string& key) {
  ParsedClaimOrder order = ParseClaimOrder(claim_order).value_or(ParsedClaimOrder{});
  return order.random ? RandomRank(order.seed, round, key) : std::string();
}

}  // namespace

// Each row's round and rank come from the trial's state, read when the row is written.
PlanWriter::PlanWriter(sqlite3* db, int64_t plan_id, std::string claim_order)
    : db_(db),
      plan_id_(plan_id),
      order_(std::move(claim_order)),
      insert_(db,
              "INSERT INTO claim_queue(plan_id, trial_key, pos, round, rank) "
              "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(plan_id, trial_key) DO NOTHING"),
      round_(db, kPendingRoundSql) {}

PlanWriter::~PlanWriter() = default;

Status PlanWriter::Add(const std::string& key) {
  auto round = PendingRound(round_, key);
  if (!round.ok()) return round.status();
  insert_.Reset();
  insert_.Bind(1, plan_id_).Bind(2, key).Bind(3, next_pos_);
  if (*round) {
    insert_.Bind(4, static_cast<int64_t>(**round)).Bind(5, Rank(order_, **round, key));
  } else {
    insert_.BindNull(4).Bind(5, "");
  }
  if (Status s = insert_.Run(); !s.ok()) return s;
  // A key already in the plan (a cell in several studies) keeps its first position.
  if (sqlite3_changes(db_) > 0) ++next_pos_;
  return Status::Ok();
}

StatusOr<int64_t> BeginPlan(sqlite3* db, int64_t sweep_id, const std::string& plan_hash,
                            const std::string& claim_order) {
  {
    Statement st(db,
                 "INSERT INTO plans(sweep_id, plan_hash, claim_order) VALUES(?1,?2,?3) "
                 "ON CONFLICT(sweep_id, plan_hash) DO UPDATE SET claim_order = ?3");
    st.Bind(1, sweep_id).Bind(2, plan_hash).Bind(3, claim_order);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  auto plan = FindPlan(db, sweep_id, plan_hash);
  if (!plan.ok()) return plan.status();
  if (!*plan) return Status::Error("recording the plan: plan vanished (store bug)");
  int64_t plan_id = **plan;
  Statement st(db, "DELETE FROM claim_queue WHERE plan_id = ?1");
  st.Bind(1, plan_id);
  if (Status s = st.Run(); !s.ok()) return s;
  return plan_id;
}

StatusOr<int64_t> RecordPlan(sqlite3* db, int64_t sweep_id, const std::string& plan_hash,
                             const std::string& claim_order,
                             const std::vector<std::string>& keys) {
  auto plan_id = BeginPlan(db, sweep_id, plan_hash, claim_order);
  if (!plan_id.ok()) return plan_id.status();
  PlanWriter rows(db, *plan_id, claim_order);
  for (const std::string& key : keys) {
    if (Status s = rows.Add(key); !s.ok()) return s;
  }
  return *plan_id;
}

Status DropUnusedPlans(sqlite3* db, int64_t sweep_id, int64_t keep, double now_s) {
  const char* unused =
      "SELECT id FROM plans WHERE sweep_id = ?1 AND id != ?2 AND id NOT IN (SELECT plan_id "
      "FROM runs WHERE plan_id IS NOT NULL AND finished_utc = '' AND "
      "(lease_expires_s IS NULL OR lease_expires_s > ?3))";
  for (const std::string table : {"claim_queue", "plans"}) {
    std::string column = table == "plans" ? "id" : "plan_id";
    Statement st(db, "DELETE FROM " + table + " WHERE " + column + " IN (" + unused + ")");
    st.Bind(1, sweep_id).Bind(2, keep).Bind(3, now_s);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  return Status::Ok();
}

StatusOr<std::optional<int64_t>> FindPlan(sqlite3* db, int64_t sweep_id,
                                          const std::optional<std::string>& plan_hash) {
  Statement st(db, plan_hash
                       ? "SELECT id FROM plans WHERE sweep_id = ?1 AND plan_hash = ?2"
                       : "SELECT p.id FROM plans p JOIN sweeps s ON s.id = p.sweep_id AND "
                         "p.plan_hash = s.plan_hash WHERE s.id = ?1");
  st.Bind(1, sweep_id);
  if (plan_hash) st.Bind(2, *plan_hash);
  if (st.Step()) return std::optional<int64_t>(st.Int(0));
  if (!st.error().empty()) return st.status("finding the sweep's plan");
  return std::optional<int64_t>();
}

StatusOr<std::optional<int64_t>> PlanOfRun(sqlite3* db, int64_t run_id, int64_t sweep_id) {
  Statement st(db, "SELECT plan_id FROM runs WHERE id = ?1 AND sweep_id = ?2");
  st.Bind(1, run_id).Bind(2, sweep_id);
  if (st.Step()) {
    if (!st.IsNull(0)) return std::optional<int64_t>(st.Int(0));
  } else if (!st.error().empty()) {
    return st.status("finding the run's plan");
  }
  return FindPlan(db, sweep_id, std::nullopt);
}

Status RequeueTrial(sqlite3* db, const std::string& key) {
  Statement round_st(db, kPendingRoundSql);
  auto round = PendingRound(round_st, key);
  if (!round.ok()) return round.status();
  if (!*round) {
    Statement st(db, "UPDATE claim_queue SET round = NULL, rank = '' WHERE trial_key = ?1");
    st.Bind(1, key);
    return st.Run();
  }
  // Usually one plan; several while an edited spec's run and an older one overlap. A
  // held row (its study cancelled) stays out of the queue.
  Statement plans(db,
                  "SELECT q.plan_id, p.claim_order FROM claim_queue q JOIN plans p ON "
                  "p.id = q.plan_id WHERE q.trial_key = ?1 AND q.held = 0");
  plans.Bind(1, key);
  Statement update(db,
                   "UPDATE claim_queue SET round = ?3, rank = ?4 WHERE plan_id = ?1 AND "
                   "trial_key = ?2");
  std::vector<std::pair<int64_t, std::string>> found;
  while (plans.Step()) found.emplace_back(plans.Int(0), plans.Text(1));
  if (!plans.error().empty()) return plans.status("requeueing a trial");
  for (const auto& [plan_id, order] : found) {
    update.Reset();
    update.Bind(1, plan_id).Bind(2, key).Bind(3, static_cast<int64_t>(**round));
    update.Bind(4, Rank(order, **round, key));
    if (Status s = update.Run(); !s.ok()) return s;
  }
  return Status::Ok();
}

StatusOr<std::optional<QueueHead>> PeekQueue(sqlite3* db, int64_t plan_id) {
  Statement st(db,
               "SELECT trial_key, round FROM claim_queue INDEXED BY claim_next "
               "WHERE plan_id = ?1 AND round IS NOT NULL ORDER BY round, rank, pos LIMIT 1");
  st.Bind(1, plan_id);
  if (st.Step()) return std::optional<QueueHead>(QueueHead{st.Text(0), static_cast<int>(st.Int(1))});
  if (!st.error().empty()) return st.status("claiming a trial");
  return std::optional<QueueHead>();
}

StatusOr<PlanLeft> PlanUnfinished(sqlite3* db, int64_t plan_id) {
  Statement st(db,
               "SELECT coalesce(sum(q.held = 0), 0), coalesce(sum(q.held != 0), 0) FROM "
               "claim_queue q JOIN trials t ON t.key = q.trial_key "
               "WHERE q.plan_id = ?1 AND t.state != 'done'");
  st.Bind(1, plan_id);
  if (!st.Step()) return st.status("counting the plan's unfinished trials");
  return PlanLeft{st.Int(0), st.Int(1)};
}

StatusOr<int> HoldStudy(sqlite3* db, int64_t sweep_id, const std::string& study_id) {
  Statement st(db,
               "UPDATE claim_queue SET held = 1, round = NULL, rank = '' WHERE plan_id IN "
               "(SELECT plan_id FROM runs WHERE sweep_id = ?1 AND finished_utc = '' AND "
               "plan_id IS NOT NULL) AND trial_key IN (SELECT trial_key FROM memberships "
               "WHERE sweep_id = ?1 AND study_id = ?2)");
  st.Bind(1, sweep_id).Bind(2, study_id);
  if (Status s = st.Run(); !s.ok()) return s;
  Statement runs(db,
                 "SELECT count(*) FROM runs WHERE sweep_id = ?1 AND finished_utc = '' AND "
                 "plan_id IS NOT NULL");
  runs.Bind(1, sweep_id);
  if (!runs.Step()) return runs.status("counting live runs");
  return static_cast<int>(runs.Int(0));
}

Status ReleaseHeld(sqlite3* db, int64_t plan_id) {
  std::vector<std::string> keys;
  {
    Statement st(db, "SELECT trial_key FROM claim_queue WHERE plan_id = ?1 AND held = 1");
    st.Bind(1, plan_id);
    Status s = st.ForEachRow("reading held cells",
                             [&](const Statement& st) { keys.push_back(st.Text(0)); });
    if (!s.ok()) return s;
  }
  if (keys.empty()) return Status::Ok();
  Statement st(db, "UPDATE claim_queue SET held = 0 WHERE plan_id = ?1");
  st.Bind(1, plan_id);
  if (Status s = st.Run(); !s.ok()) return s;
  for (const std::string& key : keys) {
    if (Status s = RequeueTrial(db, key); !s.ok()) return s;
  }
  return Status::Ok();
}

StatusOr<bool> IsHeld(sqlite3* db, int64_t plan_id, const std::string& key) {
  Statement st(db, "SELECT held FROM claim_queue WHERE plan_id = ?1 AND trial_key = ?2");
  st.Bind(1, plan_id).Bind(2, key);
  auto row = st.StepOne("reading a cell's hold");
  if (!row.ok()) return row.status();
  return *row && st.Int(0) != 0;
}

Status BuildPlansFromMemberships(sqlite3* db) {
  std::vector<std::tuple<int64_t, std::string, std::string>> sweeps;
  {
    Statement st(db, "SELECT id, plan_hash, claim_order FROM sweeps ORDER BY id");
    while (st.Step()) sweeps.emplace_back(st.Int(0), st.Text(1), st.Text(2));
    if (!st.error().empty()) return st.status("reading sweeps");
  }
  for (const auto& [sweep_id, plan_hash, order] : sweeps) {
    std::vector<std::string> keys;
    Statement st(db,
                 "SELECT m.trial_key FROM memberships m JOIN studies s ON s.sweep_id = "
                 "m.sweep_id AND s.study_id = m.study_id WHERE m.sweep_id = ?1 AND "
                 "m.in_spec = 1 ORDER BY s.position, m.position");
    st.Bind(1, sweep_id);
    while (st.Step()) keys.push_back(st.Text(0));
    if (!st.error().empty()) return st.status("reading a sweep's cells");
    auto plan = RecordPlan(db, sweep_id, plan_hash, order, keys);
    if (!plan.ok()) return plan.status();
  }
  return Status::Ok();
}

}  // namespace orch::store
