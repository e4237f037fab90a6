#include "store/schema.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "store/claim_queue.h"
#include "store/sample_blob.h"
#include "store/statement.h"
#include "store/study_counts.h"

namespace orch::store {
namespace {

// Adds the column unless the table has it; *added says whether it did.
Status AddColumnIfAbsent(sqlite3* db, const char* table, const char* column, const char* decl,
                         bool* added = nullptr) {
  Statement st(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2");
  st.Bind(1, table).Bind(2, column);
  if (!st.Step()) return st.status(std::string("reading the columns of ") + table);
  bool absent = st.Int(0) == 0;
  if (added) *added = absent;
  if (!absent) return Status::Ok();
  return Exec(db, std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + decl);
}

Status AddReplicateColumns(sqlite3* db) {
  bool added = false;
  Status s = AddColumnIfAbsent(db, "trials", "replicates", "INTEGER NOT NULL DEFAULT 1", &added);
  if (s.ok()) s = AddColumnIfAbsent(db, "attempts", "replicate", "INTEGER NOT NULL DEFAULT 1");
  if (s.ok()) {
    s = AddColumnIfAbsent(db, "sweeps", "claim_order", "TEXT NOT NULL DEFAULT 'interleaved'");
  }
  if (!s.ok() || !added) return s;
  return Exec(db, R"sql(
UPDATE trials SET replicates = max(1, CAST(coalesce(json_extract(config_json, '$.repeats'), 1)
                                           AS INTEGER))
  WHERE NOT (state = 'done' AND outcome = 'ok') AND json_valid(config_json);
)sql");
}

Status AddJobColumns(sqlite3* db) {
  Status s = AddReplicateColumns(db);
  if (s.ok()) s = AddColumnIfAbsent(db, "attempts", "job_id", "TEXT NOT NULL DEFAULT ''");
  if (s.ok()) {
    s = AddColumnIfAbsent(db, "runs", "cancel_requested", "INTEGER NOT NULL DEFAULT 0");
  }
  if (!s.ok()) return s;
  return Exec(db, "CREATE INDEX IF NOT EXISTS attempts_job ON attempts(job_id) "
                  "WHERE job_id != '' AND finished = 0");
}

// Step 5's C++: runs.plan_id (no reference: an ended run's plan may be dropped), then
// one plan per sweep. Tolerant like steps 3 and 4: a file that has the tables already
// (written by a later orch, then relabelled) is completed, not refused.
Status AddPlanColumnAndBuildPlans(sqlite3* db) {
  Status s = AddColumnIfAbsent(db, "runs", "plan_id", "INTEGER");
  if (!s.ok()) return s;
  return BuildPlansFromMemberships(db);
}

// Step 6's C++: each attempt's sample rows become one blob (store/sample_blob.h), read
// in primary-key order (repeat, index) with NULL as NaN, exactly as Store::Samples read
// them. Each attempt's rows are deleted as its blob is written, so the pages they free
// hold the next blobs and the file does not grow by the blobs' size; then the emptied
// table is dropped. Idempotent: a file without the rows' table has nothing to convert.
Status PackSampleRows(sqlite3* db) {
  {
    Statement has(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'samples'");
    if (!has.Step()) return has.status("looking for the samples table");
    if (has.Int(0) == 0) return Status::Ok();
  }
  std::vector<int64_t> attempts;
  {
    Statement ids(db, "SELECT DISTINCT attempt_id FROM samples ORDER BY attempt_id");
    Status s = ids.ForEachRow("listing attempts with samples",
                              [&](const Statement& st) { attempts.push_back(st.Int(0)); });
    if (!s.ok()) return s;
  }
  Statement rows(db,
                 "SELECT repeat, idx, latency_ms, nll, warmup FROM samples WHERE attempt_id = ?1 "
                 "ORDER BY repeat, idx");
  Statement put(db, "INSERT OR REPLACE INTO sample_blobs(attempt_id, data) VALUES(?1, ?2)");
  Statement drop(db, "DELETE FROM samples WHERE attempt_id = ?1");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int64_t attempt : attempts) {
    std::vector<Sample> samples;
    rows.Reset();
    rows.Bind(1, attempt);
    Status s = rows.ForEachRow("reading sample rows", [&](const Statement& st) {
      samples.push_back({static_cast<int>(st.Int(0)), static_cast<int>(st.Int(1)),
                         st.IsNull(2) ? nan : st.Double(2), st.IsNull(3) ? nan : st.Double(3),
                         st.Int(4) != 0});
    });
    if (!s.ok()) return s;
    auto blob = EncodeSamples(std::move(samples));
    if (!blob.ok()) return blob.status().WithContext("attempt " + std::to_string(attempt));
    put.Reset();
    put.Bind(1, attempt).BindBlob(2, *blob);
    if (s = put.Run(); !s.ok()) return s;
    drop.Reset();
    drop.Bind(1, attempt);
    if (s = drop.Run(); !s.ok()) return s;
  }
  return Exec(db, "DROP TABLE samples");
}

// Migration i (1-based) takes the schema from version i-1 to i: its SQL, then its C++
// step (when the new tables need values SQL cannot compute), in one transaction. Never
// edit a released migration: append a new one.
struct Migration {
  constexpr Migration(const char* sql_text, Status (*then_step)(sqlite3*) = nullptr)  // NOLINT
      : sql(sql_text), then(then_step) {}
  const char* sql;
  Status (*then)(sqlite3* db);
};

constexpr Migration kMigrations[] = {
      // 1: initial schema
      R"sql(
CREATE TABLE sweeps(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec_path TEXT NOT NULL,
  spec_text TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  context TEXT NOT NULL DEFAULT '',
  conclusion TEXT NOT NULL DEFAULT '',
  plan_hash TEXT NOT NULL DEFAULT '',
  created_utc TEXT NOT NULL,
  updated_utc TEXT NOT NULL);
CREATE TABLE studies(
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  study_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  title TEXT NOT NULL,
  notes TEXT NOT NULL DEFAULT '',
  baseline_json TEXT NOT NULL DEFAULT '{}',
  in_spec INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY(sweep_id, study_id));
CREATE TABLE trials(
  key TEXT PRIMARY KEY,
  config_json TEXT NOT NULL,
  state TEXT NOT NULL CHECK(state IN ('pending','running','done')),
  outcome TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_base INTEGER NOT NULL DEFAULT 0,
  final_attempt_id INTEGER,
  updated_utc TEXT NOT NULL);
CREATE INDEX trials_state ON trials(state);
CREATE TABLE memberships(
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  study_id TEXT NOT NULL,
  trial_key TEXT NOT NULL REFERENCES trials(key),
  position INTEGER NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  in_spec INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY(sweep_id, study_id, trial_key));
CREATE INDEX memberships_trial ON memberships(trial_key);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  pid_start INTEGER NOT NULL,
  started_utc TEXT NOT NULL,
  finished_utc TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  provenance_json TEXT NOT NULL DEFAULT '{}');
CREATE TABLE attempts(
  id INTEGER PRIMARY KEY,
  trial_key TEXT NOT NULL REFERENCES trials(key),
  number INTEGER NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  pid_start INTEGER NOT NULL,
  slot TEXT NOT NULL DEFAULT '',
  finished INTEGER NOT NULL DEFAULT 0,
  outcome TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  signal INTEGER,
  stderr_tail TEXT NOT NULL DEFAULT '',
  attempt_dir TEXT NOT NULL DEFAULT '',
  log_path TEXT NOT NULL DEFAULT '',
  started_utc TEXT NOT NULL,
  finished_utc TEXT NOT NULL DEFAULT '',
  duration_s REAL NOT NULL DEFAULT 0,
  details_json TEXT NOT NULL DEFAULT '{}',
  warnings_json TEXT NOT NULL DEFAULT '[]',
  environment_json TEXT NOT NULL DEFAULT '{}',
  UNIQUE(trial_key, number));
CREATE INDEX attempts_running ON attempts(finished) WHERE finished = 0;
CREATE TABLE metrics(
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  name TEXT NOT NULL,
  value REAL,
  PRIMARY KEY(attempt_id, name)) WITHOUT ROWID;
CREATE TABLE samples(
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  repeat INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  latency_ms REAL,
  nll REAL,
  warmup INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(attempt_id, repeat, idx)) WITHOUT ROWID;
CREATE TABLE fingerprints(
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  sha256 TEXT NOT NULL);
)sql",
      // 2: ownership by lease; each attempt's worker process
      R"sql(
ALTER TABLE runs ADD COLUMN pid_ns TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN heartbeat_s REAL;
ALTER TABLE runs ADD COLUMN lease_expires_s REAL;
ALTER TABLE attempts ADD COLUMN worker_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN worker_pid_start INTEGER NOT NULL DEFAULT 0;
)sql",
      // 3: replicates are fresh worker processes, one attempt each. A trial needs
      // `replicates` ok attempts; each attempt records the replicate it measured; the
      // sweep records the order its replicates are claimed in. Trials done ok before
      // (their repeats ran in one process) keep 1 replicate; every other trial needs the
      // config's `repeats`. Every earlier attempt measured replicate 1. (C++ since F9:
      // the same columns, added only where absent.)
      {"", AddReplicateColumns},
      // 4: executor job ids (SLURM "12345_7"; "" for the local executor) and a run's
      // cancel request (`orch cancel` asks a live `orch run` to stop through its run row).
      // A build of the SLURM branch numbered this step 3: its version-3 files have these
      // columns and lack step 3's, so this step adds whatever of both is absent (F9).
      {"", AddJobColumns},
      // 5: the claim queue (store/claim_queue.h): each plan an `orch run` expanded, its
      // cells with their round and rank, indexed so a claim is one lookup; a run claims
      // only from its own plan; `held` cells (a study cancelled under a live run) are
      // not claimed. Existing sweeps get one plan from their in-spec cells.
      {R"sql(
CREATE TABLE IF NOT EXISTS plans(
  id INTEGER PRIMARY KEY,
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  plan_hash TEXT NOT NULL,
  claim_order TEXT NOT NULL,
  UNIQUE(sweep_id, plan_hash));
CREATE TABLE IF NOT EXISTS claim_queue(
  plan_id INTEGER NOT NULL REFERENCES plans(id),
  trial_key TEXT NOT NULL REFERENCES trials(key),
  pos INTEGER NOT NULL,
  round INTEGER,
  rank TEXT NOT NULL DEFAULT '',
  held INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(plan_id, trial_key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claim_next ON claim_queue(plan_id, round, rank, pos)
  WHERE round IS NOT NULL;
CREATE INDEX IF NOT EXISTS claim_queue_trial ON claim_queue(trial_key);
)sql",
       AddPlanColumnAndBuildPlans},
      // 6: samples as one blob per attempt (store/sample_blob.h: float64, exact)
      // instead of one row per token: 16 bytes a token instead of ~30 and one B-tree
      // entry per attempt, so `orch report` reads a sweep's samples in one pass (issue
      // 18). The rows of older files are converted bit for bit, then dropped. And an
      // index of ok attempts by trial: a trial's ok replicates (status, export, report,
      // every claim) are counted in the index, without reading attempt rows.
      {R"sql(
CREATE TABLE IF NOT EXISTS sample_blobs(
  attempt_id INTEGER PRIMARY KEY REFERENCES attempts(id),
  data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_ok ON attempts(trial_key) WHERE finished = 1 AND outcome = 'ok';
)sql",
       PackSampleRows},
      // 7: the study counts `orch status` prints, kept by triggers on trials,
      // memberships and attempts (store/study_counts.h): a few rows to read instead of a
      // join over every trial (issue 18). Filled from the rows the file has.
      {"", CreateStudyCounts},
};
static_assert(std::size(kMigrations) == kSchemaVersion,
              "kSchemaVersion (schema.h) must be the number of migrations");

StatusOr<int> PragmaInt(sqlite3* db, const char* pragma) {
  Statement st(db, std::string("PRAGMA ") + pragma);
  if (!st.prepared()) return Status::Error("sqlite: " + st.error());
  if (!st.Step()) return Status::Error("sqlite: cannot read PRAGMA " + std::string(pragma));
  return static_cast<int>(st.Int(0));
}

Status CheckHeader(sqlite3* db, const std::string& path, int* version_out) {
  auto app = PragmaInt(db, "application_id");
  if (!app.ok()) return app.status().WithContext(path);
  auto version = PragmaInt(db, "user_version");
  if (!version.ok()) return version.status().WithContext(path);
  auto tables = PragmaInt(db, "schema_version");  // > 0 once anything was created
  if (*app != kApplicationId && !(*app == 0 && *version == 0)) {
    return Status::Error(path + ": not an orch database (application_id " +
                         std::to_string(*app) + ")");
  }
  if (*app == 0 && *version == 0 && tables.ok() && *tables > 0) {
    Statement st(db, "SELECT count(*) FROM sqlite_master");
    if (st.Step() && st.Int(0) > 0) {
      return Status::Error(path + ": not an orch database (it has tables but no orch header)");
    }
  }
  if (*version > kSchemaVersion) {
    return Status::Error(path + ": database schema version " + std::to_string(*version) +
                         " is newer than this orch understands (" +
                         std::to_string(kSchemaVersion) +
                         "); use a newer orch, or another --db");
  }
  *version_out = *version;
  return Status::Ok();
}

}  // namespace

Status CheckReadable(sqlite3* db, const std::string& path) {
  int version = 0;
  Status s = CheckHeader(db, path, &version);
  if (!s.ok()) return s;
  if (version < kSchemaVersion) {
    return Status::Error(path + ": database schema version " + std::to_string(version) +
                         " is older than this orch's (" + std::to_string(kSchemaVersion) +
                         "); run `orch run` once to migrate it");
  }
  return Status::Ok();
}

Status MigrateToLatest(sqlite3* db, const std::string& path) {
  return MigrateTo(db, path, kSchemaVersion);
}

Status MigrateTo(sqlite3* db, const std::string& path, int target) {
  int version = 0;
  Status s = CheckHeader(db, path, &version);
  if (!s.ok()) return s;
  const auto& migrations = kMigrations;
  target = std::min(target, static_cast<int>(std::size(migrations)));
  for (int v = version; v < target; ++v) {
    Transaction tx(db);
    if (!tx.begin_status().ok()) return tx.begin_status().WithContext(path);
    // Re-read inside the write lock: another process may have migrated meanwhile.
    auto current = PragmaInt(db, "user_version");
    if (!current.ok()) return current.status();
    if (*current > v) continue;
    s = Exec(db, migrations[v].sql);
    if (s.ok() && migrations[v].then) s = migrations[v].then(db);
    if (!s.ok()) return s.WithContext(path + ": migration to version " + std::to_string(v + 1));
    s = Exec(db, "PRAGMA application_id = " + std::to_string(kApplicationId) +
                     "; PRAGMA user_version = " + std::to_string(v + 1));
    if (!s.ok()) return s;
    s = tx.Commit();
    if (!s.ok()) return s.WithContext(path);
  }
  return Status::Ok();
}

}  // namespace orch::store
