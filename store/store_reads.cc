// The store's reads (store.h, "Reads"): each returns its SQLite error as a Status, never
// "no rows" (S1). The writes and the claim are in store.cc.
#include <sqlite3.h>

#include <algorithm>
#include <limits>

#include "store/rows.h"
#include "store/sample_blob.h"
#include "store/schema.h"
#include "store/statement.h"
#include "store/study_counts.h"
#include "store/store.h"

namespace orch::store {

StatusOr<int> Store::schema_version() const {
  Statement st(db_, "PRAGMA user_version");
  auto row = st.StepOne("reading the schema version");
  if (!row.ok()) return row.status();
  return *row ? static_cast<int>(st.Int(0)) : 0;
}

StatusOr<std::vector<SweepRecord>> Store::ListSweeps() const {
  std::vector<SweepRecord> out;
  Statement st(db_,
               "SELECT id, name, spec_path, spec_text, spec_hash, context, conclusion, "
               "plan_hash, created_utc, updated_utc, claim_order FROM sweeps ORDER BY id");
  Status s = st.ForEachRow("listing sweeps", [&](const Statement& st) {
    out.push_back({st.Int(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5),
                   st.Text(6), st.Text(7), st.Text(8), st.Text(9), st.Text(10)});
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::optional<SweepRecord>> Store::FindSweep(const std::string& name) const {
  auto sweeps = ListSweeps();
  if (!sweeps.ok()) return sweeps.status();
  for (auto& s : *sweeps) {
    if (s.name == name) return std::optional<SweepRecord>(s);
  }
  return std::optional<SweepRecord>();
}

StatusOr<std::vector<StudyRecord>> Store::Studies(int64_t sweep_id) const {
  std::vector<StudyRecord> out;
  Statement st(db_,
               "SELECT study_id, title, notes, baseline_json, position, in_spec FROM studies "
               "WHERE sweep_id = ?1 ORDER BY in_spec DESC, position");
  st.Bind(1, sweep_id);
  Status s = st.ForEachRow("reading studies", [&](const Statement& st) {
    StudyRecord r;
    r.sweep_id = sweep_id;
    r.id = st.Text(0);
    r.title = st.Text(1);
    r.notes = st.Text(2);
    r.baseline_json = st.Text(3);
    r.position = static_cast<int>(st.Int(4));
    r.in_spec = st.Int(5) != 0;
    out.push_back(std::move(r));
  });
  if (!s.ok()) return s;
  return out;
}

namespace {
// The sweep's memberships with their trials, in spec order; stale cells last.
std::string TrialsInOrder(const std::string& columns) {
  return "SELECT " + columns + " FROM memberships m JOIN trials t ON t.key = m.trial_key "
         "LEFT JOIN studies s ON s.sweep_id = m.sweep_id AND s.study_id = m.study_id "
         "WHERE m.sweep_id = ?1 ORDER BY m.in_spec DESC, s.position, m.position";
}

TrialRecord ReadMemberTrial(const Statement& st) {
  TrialRecord t = ReadTrial(st);
  t.study_id = st.Text(kTrialColumnCount);
  t.position = static_cast<int>(st.Int(kTrialColumnCount + 1));
  t.in_spec = st.Int(kTrialColumnCount + 2) != 0;
  t.label = st.Text(kTrialColumnCount + 3);
  return t;
}

constexpr const char* kMemberColumns = ", m.study_id, m.position, m.in_spec, m.label";
}  // namespace

StatusOr<std::vector<TrialRecord>> Store::Trials(int64_t sweep_id) const {
  std::vector<TrialRecord> out;
  Statement st(db_, TrialsInOrder(std::string(kTrialColumns) + kMemberColumns));
  st.Bind(1, sweep_id);
  Status s = st.ForEachRow("reading trials",
                           [&](const Statement& st) { out.push_back(ReadMemberTrial(st)); });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<TrialRecord>> Store::TrialsWithoutCounts(int64_t sweep_id) const {
  std::vector<TrialRecord> out;
  // kTrialColumns with 0 for the count and kMemberColumns with '' for the label, so
  // ReadMemberTrial reads them.
  Statement st(db_, TrialsInOrder("t.key, t.config_json, t.state, t.outcome, t.reason, "
                                  "t.attempts, t.final_attempt_id, t.replicates, 0, m.study_id, "
                                  "m.position, m.in_spec, ''"));
  st.Bind(1, sweep_id);
  Status s = st.ForEachRow("reading trials",
                           [&](const Statement& st) { out.push_back(ReadMemberTrial(st)); });
  if (!s.ok()) return s;
  return out;
}

Status Store::ForEachTrial(
    int64_t sweep_id,
    const std::function<void(TrialRecord&&, const std::map<std::string, double>&)>& each) const {
  Statement st(db_, TrialsInOrder(std::string(kTrialColumns) + kMemberColumns));
  st.Bind(1, sweep_id);
  // One prepared lookup for every trial's metrics (the metrics table's primary key).
  Statement metric(db_, "SELECT name, value FROM metrics WHERE attempt_id = ?1");
  Status metric_error = Status::Ok();
  std::map<std::string, double> metrics;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Status s = st.ForEachRow("reading trials", [&](const Statement& st) {
    if (!metric_error.ok()) return;
    TrialRecord t = ReadMemberTrial(st);
    metrics.clear();
    if (t.final_attempt_id) {
      metric.Reset();
      metric.Bind(1, *t.final_attempt_id);
      metric_error = metric.ForEachRow("reading a trial's metrics", [&](const Statement& m) {
        metrics[m.Text(0)] = m.IsNull(1) ? nan : m.Double(1);
      });
    }
    each(std::move(t), metrics);
  });
  return s.ok() ? metric_error : s;
}

namespace {
// The distinct texts the first column of `sql` (the sweep bound to ?1) gives, sorted.
StatusOr<std::set<std::string>> DistinctTexts(sqlite3* db, const char* sql, int64_t sweep_id,
                                              const std::string& what) {
  std::set<std::string> out;
  Statement st(db, sql);
  st.Bind(1, sweep_id);
  Status s = st.ForEachRow(what, [&](const Statement& st) { out.insert(st.Text(0)); });
  if (!s.ok()) return s;
  return out;
}
}  // namespace

StatusOr<std::set<std::string>> Store::ConfigKeys(int64_t sweep_id) const {
  return DistinctTexts(db_,
                       "SELECT DISTINCT j.key FROM memberships m JOIN trials t ON t.key = "
                       "m.trial_key, json_each(t.config_json) j WHERE m.sweep_id = ?1 AND "
                       "json_valid(t.config_json) AND json_type(t.config_json) = 'object'",
                       sweep_id, "reading config keys");
}

StatusOr<std::set<std::string>> Store::FinalMetricNames(int64_t sweep_id) const {
  return DistinctTexts(db_,
                       "SELECT DISTINCT mt.name FROM memberships m JOIN trials t ON t.key = "
                       "m.trial_key JOIN metrics mt ON mt.attempt_id = t.final_attempt_id "
                       "WHERE m.sweep_id = ?1",
                       sweep_id, "reading metric names");
}

StatusOr<std::vector<StudyCounts>> Store::Counts(int64_t sweep_id) const {
  std::vector<StudyCounts> out;
  auto studies = Studies(sweep_id);
  if (!studies.ok()) return studies.status();
  for (const StudyRecord& s : *studies) {
    out.emplace_back();
    out.back().study_id = s.id;
  }
  auto find = [&](const std::string& id) -> StudyCounts& {
    for (auto& c : out) {
      if (c.study_id == id) return c;
    }
    out.emplace_back();
    out.back().study_id = id;
    return out.back();
  };
  // The counts the database keeps by trigger (store/study_counts.h): a few rows.
  Statement st(db_,
               "SELECT study_id, in_spec, state, outcome, trials, replicates, ok_replicates "
               "FROM study_counts WHERE sweep_id = ?1 AND trials != 0");
  st.Bind(1, sweep_id);
  Status s = st.ForEachRow("counting trials", [&](const Statement& st) {
    StudyCounts& c = find(st.Text(0));
    int n = static_cast<int>(st.Int(4));
    if (st.Int(1) == 0) {
      c.stale += n;
      return;
    }
    c.replicates_total += st.Int(5);
    c.replicates_ok += st.Int(6);
    std::string state = st.Text(2);
    if (state == "pending") c.pending += n;
    else if (state == "running") c.running += n;
    else c.done[st.Text(3)] += n;
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<int> Store::UnfinishedCount(int64_t sweep_id) const {
  Statement st(db_,
               "SELECT count(DISTINCT t.key) FROM memberships m JOIN trials t ON t.key = "
               "m.trial_key WHERE m.sweep_id = ?1 AND m.in_spec = 1 AND t.state != 'done'");
  st.Bind(1, sweep_id);
  if (!st.Step()) return Fail(st, "counting unfinished trials");
  return static_cast<int>(st.Int(0));
}

StatusOr<bool> Store::CancelRequested(int64_t run_id) const {
  Statement st(db_, "SELECT cancel_requested FROM runs WHERE id = ?1");
  st.Bind(1, run_id);
  auto row = st.StepOne("reading a run's cancel request");
  if (!row.ok()) return row.status();
  return *row && st.Int(0) != 0;
}

StatusOr<std::optional<RunRecord>> Store::FindRun(int64_t run_id) const {
  Statement st(db_,
               "SELECT id, sweep_id, host, pid, pid_start, started_utc, finished_utc, exit_code, "
               "provenance_json, pid_ns, heartbeat_s, lease_expires_s FROM runs WHERE id = ?1");
  st.Bind(1, run_id);
  auto row = st.StepOne("reading a run");
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<RunRecord>();
  RunRecord r;
  r.id = st.Int(0);
  r.sweep_id = st.Int(1);
  r.owner = {st.Text(2), st.Int(3), st.Int(4), st.Text(9)};
  r.started_utc = st.Text(5);
  r.finished_utc = st.Text(6);
  r.exit_code = st.OptInt(7);
  r.provenance_json = st.Text(8);
  if (!st.IsNull(10)) r.heartbeat_s = st.Double(10);
  if (!st.IsNull(11)) r.lease_expires_s = st.Double(11);
  return std::optional<RunRecord>(std::move(r));
}

StatusOr<int> Store::TryNumber(int64_t attempt_id) const {
  Statement st(db_,
               "SELECT count(*) FROM attempts a JOIN trials t ON t.key = a.trial_key "
               "JOIN attempts me ON me.id = ?1 AND me.trial_key = a.trial_key "
               "WHERE a.number > t.retry_base AND a.number <= me.number "
               "AND a.replicate = me.replicate "
               "AND (a.outcome != 'interrupted' OR a.id = me.id)");
  st.Bind(1, attempt_id);
  if (!st.Step()) return Fail(st, "counting tries");
  return std::max(1, static_cast<int>(st.Int(0)));
}

StatusOr<std::unique_ptr<Store::ReadSnapshot>> Store::BeginRead() const {
  if (Status s = Exec(db_, "BEGIN DEFERRED"); !s.ok()) return s.WithContext(path_);
  std::unique_ptr<ReadSnapshot> snapshot(new ReadSnapshot(db_));
  // A deferred transaction takes its snapshot at its first read: take it now.
  Statement st(db_, "SELECT count(*) FROM sqlite_master");
  if (!st.Step()) return Fail(st, path_ + ": starting a read transaction");
  return snapshot;
}

Store::ReadSnapshot::~ReadSnapshot() { (void)Exec(db_, "COMMIT"); }

StatusOr<TrialRecord> Store::FindTrial(const std::string& key_or_prefix) const {
  if (key_or_prefix.size() < 4 ||
      key_or_prefix.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::Error("'" + key_or_prefix +
                         "' is not a trial key (at least 4 lowercase hex digits)");
  }
  Statement st(db_, std::string("SELECT ") + kTrialColumns +
                        " FROM trials t WHERE t.key >= ?1 AND t.key < ?1 || 'g' LIMIT 2");
  st.Bind(1, key_or_prefix);
  std::vector<TrialRecord> found;
  Status s = st.ForEachRow("finding a trial",
                           [&](const Statement& st) { found.push_back(ReadTrial(st)); });
  if (!s.ok()) return s;
  if (found.empty()) return Status::Error("no trial with key " + key_or_prefix);
  if (found.size() > 1) {
    return Status::Error("key prefix " + key_or_prefix + " is ambiguous (" + found[0].key +
                         ", " + found[1].key + ", ...): give more digits");
  }
  Statement m(db_, "SELECT study_id, position, in_spec FROM memberships WHERE trial_key = ?1 "
                   "ORDER BY in_spec DESC LIMIT 1");
  m.Bind(1, found[0].key);
  auto row = m.StepOne("reading a trial's membership");
  if (!row.ok()) return row.status();
  if (*row) {
    found[0].study_id = m.Text(0);
    found[0].position = static_cast<int>(m.Int(1));
    found[0].in_spec = m.Int(2) != 0;
  }
  return found[0];
}

StatusOr<std::vector<AttemptRecord>> Store::Attempts(const std::string& trial_key) const {
  std::vector<AttemptRecord> out;
  Statement st(db_, std::string("SELECT ") + kAttemptColumns +
                        " FROM attempts WHERE trial_key = ?1 ORDER BY number");
  st.Bind(1, trial_key);
  Status s = st.ForEachRow("reading attempts",
                           [&](const Statement& st) { out.push_back(ReadAttempt(st)); });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::optional<AttemptRecord>> Store::FindAttempt(int64_t attempt_id) const {
  Statement st(db_, std::string("SELECT ") + kAttemptColumns + " FROM attempts WHERE id = ?1");
  st.Bind(1, attempt_id);
  auto row = st.StepOne("reading an attempt");
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<AttemptRecord>();
  return std::optional<AttemptRecord>(ReadAttempt(st));
}

StatusOr<std::vector<AttemptRecord>> Store::UnfinishedJobAttempts(
    int64_t sweep_id, const std::string& study_id) const {
  std::vector<AttemptRecord> out;
  Statement st(db_, std::string("SELECT ") + kAttemptColumns +
                        " FROM attempts WHERE job_id != '' AND finished = 0 AND trial_key IN "
                        "(SELECT trial_key FROM memberships WHERE sweep_id = ?1 AND "
                        "(?2 = '' OR study_id = ?2)) ORDER BY id");
  st.Bind(1, sweep_id).Bind(2, study_id);
  Status s = st.ForEachRow("reading submitted attempts",
                           [&](const Statement& st) { out.push_back(ReadAttempt(st)); });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::optional<AttemptRecord>> Store::LatestAttempt(int64_t sweep_id) const {
  Statement st(db_, std::string("SELECT ") + kAttemptColumns +
                        " FROM attempts WHERE trial_key IN (SELECT trial_key FROM memberships "
                        "WHERE sweep_id = ?1) ORDER BY id DESC LIMIT 1");
  st.Bind(1, sweep_id);
  auto row = st.StepOne("reading the latest attempt");
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<AttemptRecord>();
  return std::optional<AttemptRecord>(ReadAttempt(st));
}

StatusOr<std::vector<AttemptRecord>> Store::UnfinishedAttempts() const {
  std::vector<AttemptRecord> out;
  Statement st(db_, std::string("SELECT ") + kAttemptColumns +
                        " FROM attempts WHERE finished = 0 ORDER BY id");
  Status s = st.ForEachRow("reading unfinished attempts",
                           [&](const Statement& st) { out.push_back(ReadAttempt(st)); });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::map<std::string, double>> Store::Metrics(int64_t attempt_id) const {
  std::map<std::string, double> out;
  Statement st(db_, "SELECT name, value FROM metrics WHERE attempt_id = ?1 ORDER BY name");
  st.Bind(1, attempt_id);
  Status s = st.ForEachRow("reading metrics", [&](const Statement& st) {
    out[st.Text(0)] = st.IsNull(1) ? std::numeric_limits<double>::quiet_NaN() : st.Double(1);
  });
  if (!s.ok()) return s;
  return out;
}

StatusOr<std::vector<Sample>> Store::Samples(int64_t attempt_id) const {
  Statement st(db_, "SELECT data FROM sample_blobs WHERE attempt_id = ?1");
  st.Bind(1, attempt_id);
  auto row = st.StepOne("reading samples");
  if (!row.ok()) return row.status();
  if (!*row) return std::vector<Sample>();
  auto samples = DecodeSamples(st.Blob(0));
  if (!samples.ok()) {
    return samples.status().WithContext(path_ + ": attempt " + std::to_string(attempt_id));
  }
  return samples;
}

namespace {
// The ids of the sweep's trials, for `IN (...)`.
constexpr const char* kSweepTrials = "(SELECT trial_key FROM memberships WHERE sweep_id = ?1)";
}  // namespace

Status Store::ForEachAttempt(int64_t sweep_id,
                             const std::function<void(AttemptRecord&&)>& each) const {
  Statement st(db_, std::string("SELECT ") + kAttemptColumns + " FROM attempts WHERE trial_key IN " +
                        kSweepTrials + " ORDER BY trial_key, number");
  st.Bind(1, sweep_id);
  return st.ForEachRow("reading the sweep's attempts",
                       [&](const Statement& st) { each(ReadAttempt(st)); });
}

Status Store::ForEachSamples(
    int64_t sweep_id, bool ok_only,
    const std::function<void(int64_t, std::vector<Sample>&&)>& each) const {
  Statement st(db_, std::string("SELECT b.attempt_id, b.data FROM attempts a JOIN sample_blobs b "
                                "ON b.attempt_id = a.id WHERE a.trial_key IN ") +
                        kSweepTrials +
                        (ok_only ? " AND a.finished = 1 AND a.outcome = 'ok'" : "") +
                        " ORDER BY b.attempt_id");
  st.Bind(1, sweep_id);
  Status decode_error = Status::Ok();
  Status s = st.ForEachRow("reading the sweep's samples", [&](const Statement& st) {
    if (!decode_error.ok()) return;
    auto samples = DecodeSamples(st.Blob(1));
    if (!samples.ok()) {
      decode_error = samples.status().WithContext(path_ + ": attempt " + std::to_string(st.Int(0)));
      return;
    }
    each(st.Int(0), std::move(*samples));
  });
  return s.ok() ? decode_error : s;
}

Status Store::ForEachAttemptById(const std::function<void(AttemptRecord&&)>& each) const {
  // kAttemptColumns' order, with '' for the three left out, so ReadAttempt reads it.
  Statement st(db_,
               "SELECT id, trial_key, number, run_id, '', pid, pid_start, slot, finished, outcome, "
               "reason, exit_code, signal, stderr_tail, '', '', started_utc, finished_utc, "
               "duration_s, details_json, warnings_json, environment_json, worker_pid, "
               "worker_pid_start, replicate, job_id FROM attempts ORDER BY id");
  return st.ForEachRow("reading attempts", [&](const Statement& st) { each(ReadAttempt(st)); });
}

Status Store::ForEachMetricInRange(
    int64_t first_id, int64_t last_id,
    const std::function<void(int64_t, const std::string&, double)>& each) const {
  Statement st(db_, "SELECT attempt_id, name, value FROM metrics WHERE attempt_id BETWEEN ?1 AND "
                    "?2 ORDER BY attempt_id, name");
  st.Bind(1, first_id).Bind(2, last_id);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return st.ForEachRow("reading metrics", [&](const Statement& st) {
    each(st.Int(0), st.Text(1), st.IsNull(2) ? nan : st.Double(2));
  });
}

Status Store::ForEachSampleBlobInRange(
    int64_t first_id, int64_t last_id,
    const std::function<void(int64_t, std::string_view)>& each) const {
  Statement st(db_, "SELECT attempt_id, data FROM sample_blobs WHERE attempt_id BETWEEN ?1 AND ?2 "
                    "ORDER BY attempt_id");
  st.Bind(1, first_id).Bind(2, last_id);
  return st.ForEachRow("reading samples",
                       [&](const Statement& st) { each(st.Int(0), st.Blob(1)); });
}

StatusOr<std::optional<double>> Store::MedianOkDuration(int64_t sweep_id) const {
  Statement st(db_,
               "SELECT a.duration_s FROM attempts a JOIN memberships m ON m.trial_key = "
               "a.trial_key WHERE m.sweep_id = ?1 AND a.finished = 1 AND a.outcome = 'ok' "
               "ORDER BY a.duration_s");
  st.Bind(1, sweep_id);
  std::vector<double> d;
  Status s = st.ForEachRow("reading durations",
                           [&](const Statement& st) { d.push_back(st.Double(0)); });
  if (!s.ok()) return s;
  if (d.empty()) return std::optional<double>();
  return std::optional<double>(d[d.size() / 2]);
}

StatusOr<std::optional<std::string>> Store::CachedFingerprint(const std::string& path,
                                                              int64_t size,
                                                              int64_t mtime_ns) const {
  Statement st(db_,
               "SELECT sha256 FROM fingerprints WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3");
  st.Bind(1, path).Bind(2, size).Bind(3, mtime_ns);
  auto row = st.StepOne("reading the fingerprint cache");
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st.Text(0));
}

Status Store::IntegrityCheck() const {
  Statement st(db_, "PRAGMA integrity_check");
  if (!st.Step()) return Fail(st, "integrity_check");
  std::string r = st.Text(0);
  if (r != "ok") return Status::Corruption(path_ + ": integrity_check: " + r);
  return CheckStudyCounts(db_, path_);
}

}  // namespace orch::store
