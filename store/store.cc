#include "store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "base/fault_point.h"
#include "store/claim_order.h"
#include "store/claim_queue.h"
#include "store/rows.h"
#include "store/sample_blob.h"
#include "store/schema.h"
#include "store/statement.h"

namespace orch::store {

std::string TrialStateName(TrialState s) {
  switch (s) {
    case TrialState::kPending: return "pending";
    case TrialState::kRunning: return "running";
    case TrialState::kDone: return "done";
  }
  return "pending";
}

Store::Store(sqlite3* db, std::string path, bool read_only)
    : db_(db), path_(std::move(path)), read_only_(read_only) {
  EnableStatementCache(db_);
}

Store::~Store() {
  DropStatementCache(db_);
  sqlite3_close_v2(db_);
}

namespace {

// "file:" URI of a path (RFC 3986 percent-encoding of what SQLite would read as syntax).
std::string FileUri(const std::string& path, const char* query) {
  std::string uri = "file:";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7f) {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      uri += buf;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?" + query;
}

// Opens `path` strictly read-only and returns its user_version. A WAL database in a
// directory we cannot write has no -shm to share: it is then read as immutable.
StatusOr<int> OpenNeverWriting(const std::string& path, sqlite3** db) {
  for (const char* query : {"mode=ro", "immutable=1"}) {
    int rc = sqlite3_open_v2(FileUri(path, query).c_str(), db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(*db, 30000);
      Statement v(*db, "PRAGMA user_version");
      if (v.Step()) return static_cast<int>(v.Int(0));
      rc = sqlite3_extended_errcode(*db);
      std::string error = v.error();
      sqlite3_close_v2(*db);
      *db = nullptr;
      if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY) continue;
      return SqliteStatus(rc, path + ": " + error);
    }
    std::string msg = *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc);
    sqlite3_close_v2(*db);
    *db = nullptr;
    return Status::Error(path + ": cannot open database: " + msg);
  }
  return Status::Error(path + ": cannot open database read-only");
}

// The attempt's metrics (rows; SQLite has no NaN: a non-finite value is NULL) and its
// samples (one blob, store/sample_blob.h).
Status StoreResultRows(sqlite3* db, const AttemptResult& r) {
  Statement st(db, "INSERT INTO metrics(attempt_id, name, value) VALUES(?1,?2,?3)");
  for (const auto& [name, value] : r.metrics) {
    st.Reset();
    st.Bind(1, r.attempt_id).Bind(2, name);
    if (std::isfinite(value)) st.Bind(3, value);
    else st.BindNull(3);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  if (r.samples.empty()) return Status::Ok();
  auto blob = EncodeSamples(r.samples);
  if (!blob.ok()) return blob.status().WithContext("attempt " + std::to_string(r.attempt_id));
  Statement put(db, "INSERT INTO sample_blobs(attempt_id, data) VALUES(?1, ?2)");
  put.Bind(1, r.attempt_id).BindBlob(2, *blob);
  return put.Run();
}

// Whether the result ends its trial. A terminal ok ends it only as the last replicate it
// needs, counted inside the caller's transaction (this attempt included), so no trial
// gets more than `replicates` ok attempts and none is lost to a crash. An ok result with
// samples of several repeats was measured by a worker that ran the repeats in one
// process: orch has asked for one repeat per process since schema 3 (trial.json
// `repeats: 1`), so it is an attempt started before the upgrade from schema 2 (issue 17,
// L7). Its trial is then done as one replicate, like the trials done before the upgrade,
// instead of running N - 1 fresh replicates after N in-process repeats.
StatusOr<bool> TrialDone(sqlite3* db, const std::string& key, const AttemptResult& r) {
  if (!r.terminal || r.outcome != "ok") return r.terminal;
  const bool in_process_repeats = std::any_of(
      r.samples.begin(), r.samples.end(),
      [&](const Sample& s) { return s.repeat != r.samples.front().repeat; });
  if (in_process_repeats) {
    Statement st(db, "UPDATE trials SET replicates = 1 WHERE key = ?1");
    st.Bind(1, key);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  Statement st(db,
               "SELECT t.replicates, (SELECT count(*) FROM attempts o WHERE o.trial_key = "
               "t.key AND o.finished = 1 AND o.outcome = 'ok') FROM trials t WHERE t.key = ?1");
  st.Bind(1, key);
  if (!st.Step()) return Fail(st, "counting replicates");
  return st.Int(1) >= st.Int(0);
}

}  // namespace

StatusOr<std::unique_ptr<Store>> Store::OpenNeverWrite(const std::string& path) {
  if (!std::filesystem::exists(path)) return Status::Error(path + ": no such database");
  sqlite3* file = nullptr;
  auto version = OpenNeverWriting(path, &file);
  if (!version.ok()) return version.status();
  if (*version >= kSchemaVersion) {
    std::unique_ptr<Store> store(new Store(file, path, true));
    if (Status s = CheckReadable(file, path); !s.ok()) return s;
    return store;
  }
  // An older schema: migrate a copy in memory, never the file.
  sqlite3* mem = nullptr;
  if (sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(mem);
    sqlite3_close_v2(file);
    return Status::Resource(path + ": cannot open an in-memory database");
  }
  std::unique_ptr<Store> store(new Store(mem, path, true));
  sqlite3_backup* copy = sqlite3_backup_init(mem, "main", file, "main");
  int rc = copy ? sqlite3_backup_step(copy, -1) : sqlite3_errcode(mem);
  if (copy) sqlite3_backup_finish(copy);
  std::string error = sqlite3_errmsg(file);
  sqlite3_close_v2(file);
  if (rc != SQLITE_DONE) return SqliteStatus(rc, path + ": copying an older database: " + error);
  if (Status s = Exec(mem, "PRAGMA foreign_keys = ON"); !s.ok()) return s;
  if (Status s = MigrateToLatest(mem, path); !s.ok()) return s;
  return store;
}

StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, OpenMode mode) {
  if (mode == OpenMode::kNeverWrite) return OpenNeverWrite(path);
  bool read_only = mode == OpenMode::kReadOnly;
  if (read_only) {
    if (!std::filesystem::exists(path)) {
      return Status::Error(path + ": no such database (run `orch run SPEC` first, or pass --db)");
    }
  } else {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Error(parent.string() + ": cannot create directory: " + ec.message());
  }
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::Error(path + ": cannot open database: " + msg);
  }
  std::unique_ptr<Store> store(new Store(db, path, read_only));
  sqlite3_busy_timeout(db, 30000);
  Status s = Exec(db, "PRAGMA foreign_keys = ON");
  if (!s.ok()) return s.WithContext(path);
  if (read_only) {
    s = CheckReadable(db, path);
    if (s.ok()) return store;
    // A database of an older orch: readers (status, show, export, report) migrate it
    // forward once, as `orch run` would, then read it. Refusals (foreign or newer
    // files) and an unwritable file keep their error.
    int version = 0;
    {
      Statement v(db, "PRAGMA user_version");
      if (v.Step()) version = static_cast<int>(v.Int(0));
    }
    if (version <= 0 || version >= kSchemaVersion) return s;
    store.reset();
    auto migrated = Open(path, OpenMode::kReadWrite);
    if (!migrated.ok()) {
      return migrated.status().WithContext(path + ": migrating an older orch database");
    }
    migrated->reset();
    return Open(path, OpenMode::kReadOnly);
  }
  // WAL keeps readers (orch status) off the writer's back; NORMAL sync in WAL mode is
  // still crash-safe for the database (a power loss may drop the last commits only).
  s = Exec(db, "PRAGMA journal_mode = WAL");
  if (!s.ok()) {
    return Status::Error(path + ": not a usable SQLite database (" + s.message() + ")");
  }
  s = Exec(db, "PRAGMA synchronous = NORMAL");
  if (!s.ok()) return s.WithContext(path);
  s = MigrateToLatest(db, path);
  if (!s.ok()) return s;
  return store;
}

// --- Sweeps ------------------------------------------------------------------------

StatusOr<Store::SweepProgress> Store::Progress(int64_t sweep_id) const {
  Statement st(db_,
               "SELECT count(*), coalesce(sum(t.state != 'done'), 0), coalesce(sum(CASE WHEN "
               "t.state != 'done' THEN max(1, t.replicates - (SELECT count(*) FROM attempts o "
               "WHERE o.trial_key = t.key AND o.finished = 1 AND o.outcome = 'ok')) ELSE 0 END), "
               "0) FROM trials t WHERE t.key IN (SELECT trial_key FROM memberships WHERE "
               "sweep_id = ?1 AND in_spec = 1)");
  st.Bind(1, sweep_id);
  if (!st.Step()) return Fail(st, "counting the sweep's trials");
  return SweepProgress{st.Int(0), st.Int(1), st.Int(2)};
}

StatusOr<std::string> Store::TrialLabel(int64_t sweep_id, const std::string& trial_key) const {
  Statement st(db_,
               "SELECT m.study_id, m.label FROM memberships m JOIN studies s ON s.sweep_id = "
               "m.sweep_id AND s.study_id = m.study_id WHERE m.trial_key = ?2 AND m.sweep_id "
               "= ?1 AND m.in_spec = 1 ORDER BY s.position, m.position LIMIT 1");
  st.Bind(1, sweep_id).Bind(2, trial_key);
  auto row = st.StepOne("reading a trial's label");
  if (!row.ok()) return row.status();
  if (!*row) return std::string();
  return st.Text(0) + " " + st.Text(1);
}

// --- Runs and ownership -----------------------------------------------------------

StatusOr<int64_t> Store::BeginRun(int64_t sweep_id, const Owner& owner,
                                  const std::string& provenance_json, double lease_s,
                                  const std::optional<std::string>& plan_hash) {
  // The plan is looked up and the run recorded in one transaction, so the plan cannot
  // be dropped (DropUnusedPlans) between the two.
  Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  auto plan = FindPlan(db_, sweep_id, plan_hash);
  if (!plan.ok()) return plan.status();
  if (!*plan) {
    return Status::Error(plan_hash ? "the sweep was planned again by another orch since this "
                                     "run planned it; run again"
                                   : "the sweep has no recorded plan (store bug)");
  }
  Statement st(db_,
               "INSERT INTO runs(sweep_id, host, pid, pid_start, started_utc, provenance_json, "
               "pid_ns, heartbeat_s, lease_expires_s, plan_id) "
               "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  double now = UnixNow();
  st.Bind(1, sweep_id).Bind(2, owner.host).Bind(3, owner.pid).Bind(4, owner.pid_start);
  st.Bind(5, NowUtc()).Bind(6, provenance_json).Bind(7, owner.pid_ns).Bind(8, now);
  st.Bind(9, now + lease_s).Bind(10, **plan);
  if (Status s = st.Run(); !s.ok()) return s;
  // A study cancelled under an earlier run of this plan runs again (`orch resume`).
  if (Status s = ReleaseHeld(db_, **plan); !s.ok()) return s;
  int64_t run_id = sqlite3_last_insert_rowid(db_);
  if (Status s = tx.Commit(); !s.ok()) return s;
  return run_id;
}

StatusOr<bool> Store::Held(int64_t run_id, const std::string& trial_key) const {
  Statement st(db_, "SELECT plan_id FROM runs WHERE id = ?1 AND plan_id IS NOT NULL");
  st.Bind(1, run_id);
  auto row = st.StepOne("reading a run's plan");
  if (!row.ok()) return row.status();
  if (!*row) return false;
  return IsHeld(db_, st.Int(0), trial_key);
}

StatusOr<Store::RunLeft> Store::RunUnfinishedCount(int64_t run_id) const {
  Statement st(db_, "SELECT sweep_id FROM runs WHERE id = ?1");
  st.Bind(1, run_id);
  if (!st.Step()) {
    if (!st.error().empty()) return Fail(st, "reading a run");
    return Status::Error("no run " + std::to_string(run_id));
  }
  auto plan = PlanOfRun(db_, run_id, st.Int(0));
  if (!plan.ok()) return plan.status();
  if (!*plan) return RunLeft{};
  auto left = PlanUnfinished(db_, **plan);
  if (!left.ok()) return left.status();
  return RunLeft{left->unfinished, left->held};
}

Status Store::RenewLease(int64_t run_id, double lease_s) {
  Statement st(db_, "UPDATE runs SET heartbeat_s = ?2, lease_expires_s = ?3 WHERE id = ?1");
  double now = UnixNow();
  st.Bind(1, run_id).Bind(2, now).Bind(3, now + lease_s);
  return st.Run();
}

Status Store::EndRun(int64_t run_id, int exit_code) {
  Statement st(db_, "UPDATE runs SET finished_utc = ?2, exit_code = ?3 WHERE id = ?1");
  st.Bind(1, run_id).Bind(2, NowUtc()).Bind(3, exit_code);
  return st.Run();
}

StatusOr<int> Store::RequestCancel(int64_t sweep_id, const std::string& study_id) {
  if (!study_id.empty()) {
    Transaction tx(db_);
    if (!tx.begin_status().ok()) return tx.begin_status();
    auto asked = HoldStudy(db_, sweep_id, study_id);
    if (!asked.ok()) return asked.status();
    if (Status s = tx.Commit(); !s.ok()) return s;
    return *asked;
  }
  Statement st(db_, "UPDATE runs SET cancel_requested = 1 WHERE sweep_id = ?1 AND finished_utc = ''");
  st.Bind(1, sweep_id);
  if (Status s = st.Run(); !s.ok()) return s;
  return sqlite3_changes(db_);
}

Status Store::InterruptAttempt(int64_t attempt_id, const std::string& reason,
                               bool* superseded) {
  Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  std::string key;
  {
    Statement st(db_, "SELECT trial_key, finished FROM attempts WHERE id = ?1");
    st.Bind(1, attempt_id);
    if (!st.Step()) {
      if (!st.error().empty()) return Fail(st, "reading an attempt");
      return Status::Error("no attempt " + std::to_string(attempt_id));
    }
    if (st.Int(1) != 0) {
      if (superseded) *superseded = true;
      return Status::Ok();
    }
    key = st.Text(0);
  }
  std::string now = NowUtc();
  {
    Statement st(db_,
                 "UPDATE attempts SET finished = 1, outcome = 'interrupted', reason = ?2, "
                 "finished_utc = ?3 WHERE id = ?1");
    st.Bind(1, attempt_id).Bind(2, reason).Bind(3, now);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  {
    Statement st(db_,
                 "UPDATE trials SET state = 'pending', outcome = '', reason = ?2, "
                 "updated_utc = ?3 WHERE key = ?1 AND state = 'running'");
    st.Bind(1, key).Bind(2, reason).Bind(3, now);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  if (Status s = RequeueTrial(db_, key); !s.ok()) return s;
  if (superseded) *superseded = false;
  return tx.Commit();
}

// --- Claims -----------------------------------------------------------------------

StatusOr<std::optional<Claim>> Store::ClaimNext(
    int64_t sweep_id, int64_t run_id, const Owner& owner, const std::string& slot,
    const std::function<StatusOr<std::string>(const std::string&, int)>& attempt_dir_for) {
  // BEGIN IMMEDIATE takes the write lock before reading, so two orchestrators on one
  // database cannot both see the same trial as pending.
  Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  // The run's own plan only (an edited spec planned by another run is that run's), its
  // first cell in (round, rank, position): one indexed lookup (store/claim_queue.h).
  auto plan = PlanOfRun(db_, run_id, sweep_id);
  if (!plan.ok()) return plan.status();
  if (!*plan) return std::optional<Claim>();
  auto head = PeekQueue(db_, **plan);
  if (!head.ok()) return head.status();
  if (!*head) return std::optional<Claim>();
  Claim c;
  c.trial_key = (*head)->trial_key;
  c.replicate = (*head)->round;
  {
    Statement st(db_, "SELECT config_json, attempts, replicates FROM trials WHERE key = ?1");
    st.Bind(1, c.trial_key);
    if (!st.Step()) return Fail(st, "claiming a trial");
    c.config_json = st.Text(0);
    c.attempt_number = static_cast<int>(st.Int(1)) + 1;
    c.replicates = static_cast<int>(st.Int(2));
  }
  {
    // Interrupted attempts (orch killed, Ctrl-C, a machine fault) are not the trial's
    // fault: they do not count as tries. Each replicate has its own retry budget.
    Statement st(db_,
                 "SELECT count(*) FROM attempts a JOIN trials t ON t.key = a.trial_key "
                 "WHERE a.trial_key = ?1 AND a.number > t.retry_base AND a.replicate = ?2 "
                 "AND a.outcome != 'interrupted'");
    st.Bind(1, c.trial_key).Bind(2, static_cast<int64_t>(c.replicate));
    if (!st.Step()) return Fail(st, "counting tries");
    c.try_number = static_cast<int>(st.Int(0)) + 1;
  }
  {
    auto dir = attempt_dir_for(c.trial_key, c.attempt_number);
    if (!dir.ok()) return dir.status();
    c.attempt_dir = *dir;
  }
  std::string now = NowUtc();
  {
    Statement st(db_,
                 "UPDATE trials SET state = 'running', attempts = ?2, updated_utc = ?3 "
                 "WHERE key = ?1 AND state = 'pending'");
    st.Bind(1, c.trial_key).Bind(2, c.attempt_number).Bind(3, now);
    if (Status s = st.Run(); !s.ok()) return s;
    if (sqlite3_changes(db_) != 1) return Status::Error("claim lost a race (store bug)");
    if (Status s = RequeueTrial(db_, c.trial_key); !s.ok()) return s;
  }
  {
    Statement st(db_,
                 "INSERT INTO attempts(trial_key, number, run_id, host, pid, pid_start, slot, "
                 "attempt_dir, started_utc, replicate) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    st.Bind(1, c.trial_key).Bind(2, c.attempt_number).Bind(3, run_id).Bind(4, owner.host);
    st.Bind(5, owner.pid).Bind(6, owner.pid_start).Bind(7, slot).Bind(8, c.attempt_dir);
    st.Bind(9, now).Bind(10, static_cast<int64_t>(c.replicate));
    if (Status s = st.Run(); !s.ok()) return s;
    c.attempt_id = sqlite3_last_insert_rowid(db_);
  }
  if (Status s = tx.Commit(); !s.ok()) return s;
  return std::optional<Claim>(std::move(c));
}

Status Store::SetAttemptWorker(int64_t attempt_id, const std::string& log_path, int64_t pid,
                               int64_t pid_start) {
  Statement st(db_,
               "UPDATE attempts SET log_path = ?2, worker_pid = ?3, worker_pid_start = ?4 "
               "WHERE id = ?1");
  st.Bind(1, attempt_id).Bind(2, log_path).Bind(3, pid).Bind(4, pid_start);
  return st.Run();
}

Status Store::SetAttemptJob(int64_t attempt_id, const std::string& job_id) {
  Statement st(db_, "UPDATE attempts SET job_id = ?2 WHERE id = ?1");
  st.Bind(1, attempt_id).Bind(2, job_id);
  return st.Run();
}

Status Store::FinishAttempt(const AttemptResult& r, bool* superseded) {
  // A result may stand for hours of GPU time: its commit is synced to disk (FULL), where
  // every other transaction relies on WAL + NORMAL (docs/design.md, "Durability").
  struct FullSync {
    sqlite3* db;
    explicit FullSync(sqlite3* d) : db(d) { (void)Exec(db, "PRAGMA synchronous = FULL"); }
    ~FullSync() { (void)Exec(db, "PRAGMA synchronous = NORMAL"); }
  } full_sync(db_);
  Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  std::string key;
  {
    Statement st(db_, "SELECT trial_key, finished FROM attempts WHERE id = ?1");
    st.Bind(1, r.attempt_id);
    if (!st.Step()) {
      if (!st.error().empty()) return Fail(st, "reading an attempt");
      return Status::Error("no attempt " + std::to_string(r.attempt_id));
    }
    if (st.Int(1) != 0) {
      // Another orchestrator already declared it interrupted (its owner looked dead);
      // keeping the first verdict means no trial completes twice.
      if (superseded) {
        *superseded = true;
        return Status::Ok();
      }
      return Status::Error("attempt " + std::to_string(r.attempt_id) + " was already finished");
    }
    key = st.Text(0);
  }
  std::string now = NowUtc();
  {
    Statement st(db_,
                 "UPDATE attempts SET finished = 1, outcome = ?2, reason = ?3, exit_code = ?4, "
                 "signal = ?5, stderr_tail = ?6, finished_utc = ?7, duration_s = ?8, "
                 "details_json = ?9, warnings_json = ?10, environment_json = ?11 WHERE id = ?1");
    st.Bind(1, r.attempt_id).Bind(2, r.outcome).Bind(3, r.reason).Bind(4, r.exit_code);
    st.Bind(5, r.signal).Bind(6, r.stderr_tail).Bind(7, now).Bind(8, r.duration_s);
    st.Bind(9, r.details_json).Bind(10, r.warnings_json).Bind(11, r.environment_json);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  if (Status s = StoreResultRows(db_, r); !s.ok()) return s;
  auto done = TrialDone(db_, key, r);
  if (!done.ok()) return done.status();
  {
    Statement st(db_,
                 *done
                     ? "UPDATE trials SET state = 'done', outcome = ?2, reason = ?3, "
                       "final_attempt_id = ?4, updated_utc = ?5 WHERE key = ?1"
                     : r.terminal  // an ok replicate with more to come
                     ? "UPDATE trials SET state = 'pending', outcome = '', reason = '', "
                       "updated_utc = ?5 WHERE key = ?1"
                     : "UPDATE trials SET state = 'pending', outcome = '', reason = ?3, "
                       "updated_utc = ?5 WHERE key = ?1");
    st.Bind(1, key).Bind(2, r.outcome).Bind(3, r.reason).Bind(4, r.attempt_id).Bind(5, now);
    if (Status s = st.Run(); !s.ok()) return s;
  }
  if (Status s = RequeueTrial(db_, key); !s.ok()) return s;
  FaultPoint("inside_result_txn");
  if (superseded) *superseded = false;
  return tx.Commit();
}

StatusOr<int> Store::ResetFailed(int64_t sweep_id) {
  Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  std::vector<std::string> keys;
  {
    Statement st(db_,
                 "SELECT key FROM trials WHERE state = 'done' AND outcome != 'ok' AND key IN "
                 "(SELECT trial_key FROM memberships WHERE sweep_id = ?1 AND in_spec = 1)");
    st.Bind(1, sweep_id);
    while (st.Step()) keys.push_back(st.Text(0));
    if (!st.error().empty()) return Fail(st, "finding failed trials");
  }
  Statement st(db_,
               "UPDATE trials SET state = 'pending', outcome = '', reason = '', "
               "final_attempt_id = NULL, retry_base = attempts WHERE key = ?1");
  for (const std::string& key : keys) {
    st.Reset();
    st.Bind(1, key);
    if (Status s = st.Run(); !s.ok()) return s;
    if (Status s = RequeueTrial(db_, key); !s.ok()) return s;
  }
  if (Status s = tx.Commit(); !s.ok()) return s;
  return static_cast<int>(keys.size());
}

// --- Fingerprints (the cache read is in store_reads.cc, with the other reads) ------

Status Store::PutFingerprint(const std::string& path, int64_t size, int64_t mtime_ns,
                             const std::string& sha256) {
  Statement st(db_,
               "INSERT INTO fingerprints(path, size, mtime_ns, sha256) VALUES(?1,?2,?3,?4) "
               "ON CONFLICT(path) DO UPDATE SET size=?2, mtime_ns=?3, sha256=?4");
  st.Bind(1, path).Bind(2, size).Bind(3, mtime_ns).Bind(4, sha256);
  return st.Run();
}

void Store::SetBusyTimeout(int ms) { sqlite3_busy_timeout(db_, ms); }

void Store::CountSqlWork(uint64_t* counter) {
  if (!counter) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    return;
  }
  sqlite3_progress_handler(
      db_, 1,  // SQLite counts per statement execution: only 1 sees short statements
      [](void* c) {
        ++*static_cast<uint64_t*>(c);
        return 0;
      },
      counter);
}

}  // namespace orch::store
