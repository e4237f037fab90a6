#include "store/schema.h"

#include <algorithm>
#include <string>
#include <vector>

#include "store/statement.h"
#include "store/store.h"

namespace orch::store {
namespace {

// Migration i (1-based) takes the schema from version i-1 to i. Never edit a released
// migration: append a new one.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
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
      // config's `repeats`. Every earlier attempt measured replicate 1.
      R"sql(
ALTER TABLE trials ADD COLUMN replicates INTEGER NOT NULL DEFAULT 1;
ALTER TABLE attempts ADD COLUMN replicate INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sweeps ADD COLUMN claim_order TEXT NOT NULL DEFAULT 'interleaved';
UPDATE trials SET replicates = max(1, CAST(coalesce(json_extract(config_json, '$.repeats'), 1)
                                           AS INTEGER))
  WHERE NOT (state = 'done' AND outcome = 'ok') AND json_valid(config_json);
)sql",
      // 4: executor job ids (SLURM "12345_7"; "" for the local executor) and a run's
      // cancel request (`orch cancel` asks a live `orch run` to stop through its run row)
      R"sql(
ALTER TABLE attempts ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX attempts_job ON attempts(job_id) WHERE job_id != '' AND finished = 0;
)sql",
  };
  return kMigrations;
}

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
  const auto& migrations = Migrations();
  target = std::min(target, static_cast<int>(migrations.size()));
  for (int v = version; v < target; ++v) {
    Transaction tx(db);
    if (!tx.begin_status().ok()) return tx.begin_status().WithContext(path);
    // Re-read inside the write lock: another process may have migrated meanwhile.
    auto current = PragmaInt(db, "user_version");
    if (!current.ok()) return current.status();
    if (*current > v) continue;
    s = Exec(db, migrations[v]);
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
