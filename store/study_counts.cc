#include "store/study_counts.h"

#include <sqlite3.h>

#include <string>
#include <tuple>
#include <vector>

#include "store/statement.h"

namespace orch::store {
namespace {

constexpr const char* kColumns =
    "sweep_id, study_id, in_spec, state, outcome, trials, replicates, ok_replicates";

// A trial's ok replicates recorded so far (the attempts_ok index, schema 6).
std::string OkOf(const std::string& key) {
  return "(SELECT count(*) FROM attempts o WHERE o.trial_key = " + key +
         " AND o.finished = 1 AND o.outcome = 'ok')";
}

// Adds the rows of `select` (kColumns, the last three signed) to their buckets. The
// WHERE every select here has keeps SQLite's parser off the ON of ON CONFLICT.
std::string AddTo(const std::string& select) {
  return "INSERT INTO study_counts(" + std::string(kColumns) + ") " + select +
         " ON CONFLICT(sweep_id, study_id, in_spec, state, outcome) DO UPDATE SET "
         "trials = trials + excluded.trials, replicates = replicates + excluded.replicates, "
         "ok_replicates = ok_replicates + excluded.ok_replicates;\n";
}

// Trial row `t` (OLD or NEW) counted `sign` times in the buckets of its memberships.
std::string TrialInItsStudies(const std::string& t, const char* sign) {
  return AddTo("SELECT m.sweep_id, m.study_id, m.in_spec, " + t + ".state, " + t +
               ".outcome, " + sign + ", " + sign + " * " + t + ".replicates, " + sign +
               " * min(" + t + ".replicates, " + OkOf(t + ".key") +
               ") FROM memberships m WHERE m.trial_key = " + t + ".key");
}

// Membership row `m` (OLD or NEW) counting its trial `sign` times.
std::string MembershipOfItsTrial(const std::string& m, const char* sign) {
  return AddTo("SELECT " + m + ".sweep_id, " + m + ".study_id, " + m +
               ".in_spec, t.state, t.outcome, " + sign + ", " + sign + " * t.replicates, " +
               sign + " * min(t.replicates, " + OkOf("t.key") + ") FROM trials t WHERE t.key = " +
               m + ".trial_key");
}

// Attempt row `a` just became ok (d = 1) or stopped being ok (d = -1): its trial's ok
// replicates, capped at the target, move by the difference in the trial's buckets.
std::string OkAttemptChanged(const std::string& a, const std::string& d) {
  std::string now = OkOf(a + ".trial_key");
  return AddTo("SELECT m.sweep_id, m.study_id, m.in_spec, t.state, t.outcome, 0, 0, "
               "min(t.replicates, " + now + ") - min(t.replicates, " + now + " - (" + d +
               ")) FROM memberships m, trials t WHERE m.trial_key = " + a +
               ".trial_key AND t.key = " + a + ".trial_key");
}

std::string Trigger(const std::string& name, const std::string& when, const std::string& body) {
  return "CREATE TRIGGER IF NOT EXISTS " + name + " " + when + " BEGIN\n" + body + "END;\n";
}

// The insert, delete and update triggers of `table`, whose row `r` counts as
// `counted(r, sign)`; an update moves the row's counts when one of `columns` changed.
std::string RowTriggers(const std::string& table, const std::string& name,
                        const std::vector<std::string>& columns,
                        std::string (*counted)(const std::string&, const char*)) {
  std::string of, changed;
  for (const std::string& c : columns) {
    of += (of.empty() ? "" : ", ") + c;
    changed += (changed.empty() ? "" : " OR ") + ("OLD." + c + " IS NOT NEW." + c);
  }
  const std::string prefix = "study_counts_" + name;
  return Trigger(prefix + "_insert", "AFTER INSERT ON " + table, counted("NEW", "1")) +
         Trigger(prefix + "_delete", "AFTER DELETE ON " + table, counted("OLD", "-1")) +
         Trigger(prefix + "_update", "AFTER UPDATE OF " + of + " ON " + table + " WHEN " + changed,
                 counted("OLD", "-1") + counted("NEW", "1"));
}

// Whether attempt row `a` (OLD or NEW) is a finished ok replicate (1 or 0).
std::string IsOk(const std::string& a) {
  return "(" + a + ".finished = 1 AND " + a + ".outcome = 'ok')";
}

std::string TableAndTriggers() {
  std::string sql = R"sql(
CREATE TABLE IF NOT EXISTS study_counts(
  sweep_id INTEGER NOT NULL,
  study_id TEXT NOT NULL,
  in_spec INTEGER NOT NULL,
  state TEXT NOT NULL,
  outcome TEXT NOT NULL,
  trials INTEGER NOT NULL,
  replicates INTEGER NOT NULL,
  ok_replicates INTEGER NOT NULL,
  PRIMARY KEY(sweep_id, study_id, in_spec, state, outcome)) WITHOUT ROWID;
)sql";
  // Keys never change in orch; a write that tried would need a recount, so it is refused.
  sql += Trigger("study_counts_keys_trials", "BEFORE UPDATE OF key ON trials",
                 "SELECT RAISE(ABORT, 'trials.key cannot change');\n");
  sql += Trigger("study_counts_keys_attempts",
                 "BEFORE UPDATE OF trial_key ON attempts WHEN OLD.trial_key IS NOT NEW.trial_key",
                 "SELECT RAISE(ABORT, 'attempts.trial_key cannot change');\n");
  sql += RowTriggers("trials", "trial", {"state", "outcome", "replicates"}, TrialInItsStudies);
  sql += RowTriggers("memberships", "membership", {"sweep_id", "study_id", "trial_key", "in_spec"},
                     MembershipOfItsTrial);
  sql += Trigger("study_counts_attempt_insert", "AFTER INSERT ON attempts WHEN " + IsOk("NEW"),
                 OkAttemptChanged("NEW", "1"));
  sql += Trigger("study_counts_attempt_delete", "AFTER DELETE ON attempts WHEN " + IsOk("OLD"),
                 OkAttemptChanged("OLD", "-1"));
  sql += Trigger("study_counts_attempt_update",
                 "AFTER UPDATE OF finished, outcome ON attempts WHEN " + IsOk("OLD") +
                     " IS NOT " + IsOk("NEW"),
                 OkAttemptChanged("NEW", IsOk("NEW") + " - " + IsOk("OLD")));
  return sql;
}

// Every bucket recounted from the rows.
std::string Recount() {
  return "SELECT m.sweep_id, m.study_id, m.in_spec, t.state, t.outcome, count(*), "
         "sum(t.replicates), sum(min(t.replicates, " + OkOf("t.key") +
         ")) FROM memberships m JOIN trials t ON t.key = m.trial_key GROUP BY 1, 2, 3, 4, 5";
}

constexpr const char* kStored =
    "SELECT sweep_id, study_id, in_spec, state, outcome, trials, replicates, ok_replicates "
    "FROM study_counts WHERE trials != 0 OR replicates != 0 OR ok_replicates != 0";

}  // namespace

Status CreateStudyCounts(sqlite3* db) {
  Status s = Exec(db, TableAndTriggers());
  if (s.ok()) s = Exec(db, "DELETE FROM study_counts");
  if (s.ok()) s = Exec(db, "INSERT INTO study_counts(" + std::string(kColumns) + ") " + Recount());
  return s;
}

Status CheckStudyCounts(sqlite3* db, const std::string& path) {
  const std::string recount = Recount();
  for (const auto& [a, b, which] :
       {std::tuple(recount, std::string(kStored), "recounted but not stored"),
        std::tuple(std::string(kStored), recount, "stored but not recounted")}) {
    Statement st(db, a + " EXCEPT " + b + " LIMIT 1");
    auto row = st.StepOne("checking the study counts");
    if (!row.ok()) return row.status();
    if (!*row) continue;
    return Status::Corruption(
        path + ": study counts (" + which + "): sweep " + std::to_string(st.Int(0)) +
        ", study " + st.Text(1) + (st.Int(2) ? "" : " (stale)") + ", " + st.Text(3) +
        (st.Text(4).empty() ? "" : " " + st.Text(4)) + ": " + std::to_string(st.Int(5)) +
        " trials, " + std::to_string(st.Int(6)) + " replicates, " + std::to_string(st.Int(7)) +
        " ok");
  }
  return Status::Ok();
}

}  // namespace orch::store
