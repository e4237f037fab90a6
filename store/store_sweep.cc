// Recording a sweep's plan (Store::UpsertSweep): the sweep and its studies, then every
// cell's trial, membership and claim-queue row as the caller hands it over, in one
// transaction (issue 18: a 100,000-cell plan is recorded without being held).
#include <sqlite3.h>

#include <algorithm>

#include "store/claim_queue.h"
#include "store/rows.h"
#include "store/statement.h"
#include "store/store.h"

namespace orch::store {

StatusOr<int64_t> Store::UpsertSweep(const SweepDef& def) {
  return UpsertSweep(def, [&def](const AddCell& add) {
    for (size_t i = 0; i < def.studies.size(); ++i) {
      for (const CellDef& cell : def.studies[i].cells) {
        if (Status s = add(i, cell); !s.ok()) return s;
      }
    }
    return Status::Ok();
  });
}

namespace {

// Records the sweep row and returns its id; its studies are marked out of the spec, and
// its memberships' positions negated (-1 - position), until the cells of the new plan
// mark them again; MarkStale ends it. A membership's in_spec changes only when it leaves
// or re-enters the spec, so a re-plan does not move every trial's study counts
// (store/study_counts.h) out of the spec and back.
StatusOr<int64_t> WriteSweepRow(sqlite3* db, const SweepDef& def, const std::string& now) {
  {
    Statement st(db,
                 "INSERT INTO sweeps(name, spec_path, spec_text, spec_hash, context, conclusion, "
                 "created_utc, updated_utc, plan_hash, claim_order) "
                 "VALUES(?1,?2,?3,?4,?5,?6,?7,?7,?8,?9) "
                 "ON CONFLICT(name) DO UPDATE SET spec_path=?2, spec_text=?3, spec_hash=?4, "
                 "context=?5, conclusion=?6, updated_utc=?7, plan_hash=?8, claim_order=?9");
    st.Bind(1, def.name).Bind(2, def.spec_path).Bind(3, def.spec_text).Bind(4, def.spec_hash);
    st.Bind(5, def.context).Bind(6, def.conclusion).Bind(7, now).Bind(8, def.plan_hash);
    st.Bind(9, def.claim_order.empty() ? std::string("interleaved") : def.claim_order);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  int64_t sweep_id = 0;
  {
    Statement st(db, "SELECT id FROM sweeps WHERE name = ?1");
    st.Bind(1, def.name);
    if (!st.Step()) return Fail(st, "reading sweep id");
    sweep_id = st.Int(0);
  }
  for (const char* sql : {"UPDATE studies SET in_spec = 0 WHERE sweep_id = ?1",
                          "UPDATE memberships SET position = -1 - position WHERE sweep_id = ?1 "
                          "AND position >= 0"}) {
    Statement st(db, sql);
    st.Bind(1, sweep_id);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  Statement study(db,
                  "INSERT INTO studies(sweep_id, study_id, position, title, notes, baseline_json, "
                  "in_spec) VALUES(?1,?2,?3,?4,?5,?6,1) ON CONFLICT(sweep_id, study_id) DO UPDATE "
                  "SET position=?3, title=?4, notes=?5, baseline_json=?6, in_spec=1");
  for (size_t i = 0; i < def.studies.size(); ++i) {
    const StudyDef& sd = def.studies[i];
    study.Reset();
    study.Bind(1, sweep_id).Bind(2, sd.id).Bind(3, static_cast<int64_t>(i));
    study.Bind(4, sd.title).Bind(5, sd.notes).Bind(6, sd.baseline_json.empty() ? "{}" : sd.baseline_json);
    if (Status s = study.Run(); !s.ok()) return s;
  }
  return sweep_id;
}

// The memberships the new plan did not mark again are out of the spec (stale), their
// positions as they were.
Status MarkStale(sqlite3* db, int64_t sweep_id) {
  Statement st(db, "UPDATE memberships SET in_spec = 0, position = -1 - position WHERE "
                   "sweep_id = ?1 AND position < 0");
  st.Bind(1, sweep_id);
  return st.Run();
}

// Writes the cells handed to it: each one's trial (when new), its membership and its row
// in the plan's claim queue, with statements prepared once for the whole sweep.
class CellWriter {
 public:
  CellWriter(sqlite3* db, const SweepDef& def, int64_t sweep_id, std::string now,
             PlanWriter* plan)
      : def_(def),
        sweep_id_(sweep_id),
        now_(std::move(now)),
        plan_(plan),
        positions_(def.studies.size(), 0),
        trial_(db,
               "INSERT INTO trials(key, config_json, state, updated_utc, replicates) "
               "VALUES(?1,?2,'pending',?3,?4) ON CONFLICT(key) DO NOTHING"),
        member_(db,
                "INSERT INTO memberships(sweep_id, study_id, trial_key, position, label, in_spec) "
                "VALUES(?1,?2,?3,?4,?5,1) ON CONFLICT(sweep_id, study_id, trial_key) "
                "DO UPDATE SET position=?4, label=?5, in_spec=1") {}

  Status Add(size_t study, const CellDef& cell) {
    if (study >= def_.studies.size()) {
      return Status::Error("recording the sweep: a cell of study " + std::to_string(study) +
                           " of " + std::to_string(def_.studies.size()) + " (store bug)");
    }
    trial_.Reset();
    trial_.Bind(1, cell.key).Bind(2, cell.config_json).Bind(3, now_);
    trial_.Bind(4, static_cast<int64_t>(std::max(1, cell.replicates)));
    if (Status s = trial_.Run(); !s.ok()) return s;
    member_.Reset();
    member_.Bind(1, sweep_id_).Bind(2, def_.studies[study].id).Bind(3, cell.key);
    member_.Bind(4, positions_[study]++).Bind(5, cell.label);
    if (Status s = member_.Run(); !s.ok()) return s;
    return plan_->Add(cell.key);
  }

 private:
  const SweepDef& def_;
  int64_t sweep_id_;
  std::string now_;
  PlanWriter* plan_;
  std::vector<int64_t> positions_;  // the next cell's position in each study
  Statement trial_;
  Statement member_;
};

}  // namespace

StatusOr<int64_t> Store::UpsertSweep(const SweepDef& def,
                                     const std::function<Status(const AddCell& add)>& cells) {
  Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  std::string now = NowUtc();
  auto sweep_id = WriteSweepRow(db_, def, now);
  if (!sweep_id.ok()) return sweep_id.status();
  const std::string order = def.claim_order.empty() ? "interleaved" : def.claim_order;
  auto plan_id = BeginPlan(db_, *sweep_id, def.plan_hash, order);
  if (!plan_id.ok()) return plan_id.status();
  PlanWriter plan(db_, *plan_id, order);
  CellWriter writer(db_, def, *sweep_id, now, &plan);
  if (Status s = cells([&writer](size_t study, const CellDef& cell) {
        return writer.Add(study, cell);
      });
      !s.ok()) {
    return s;  // the transaction rolls back: the database is as it was
  }
  if (Status s = MarkStale(db_, *sweep_id); !s.ok()) return s;
  if (Status s = DropUnusedPlans(db_, *sweep_id, *plan_id, UnixNow()); !s.ok()) return s;
  if (Status s = tx.Commit(); !s.ok()) return s;
  return *sweep_id;
}

}  // namespace orch::store
