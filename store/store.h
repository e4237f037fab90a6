// Store: the SQLite database of sweeps, trials, attempts and results. The orchestrator
// is its only writer; workers never open it. Every state change is one transaction, so
// the file is whole after a crash at any moment, and a trial is `done` only once its
// whole result is stored. No SQL exists outside store/.
//
// Thread-safety: one Store per thread (SQLite connection); several processes may open
// the same file: claims are atomic across processes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/records.h"
#include "store/schema.h"  // kSchemaVersion, beside the migrations

struct sqlite3;

namespace orch::store {

// kReadOnly: a reader (status, show, export, report) of the orch database; an older file
// is migrated in place once, as `orch run` would. kNeverWrite: someone else's database
// (`orch compare --against-db`): the file is opened read-only and never changed; an older
// one is copied into memory and the copy migrated.
enum class OpenMode { kReadWrite, kReadOnly, kNeverWrite };

class Store {
 public:
  // Opens (creating when kReadWrite, with its parent directory) and migrates forward.
  // Refuses a file that is not an orch database or comes from a newer orch.
  static StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                               OpenMode mode = OpenMode::kReadWrite);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  StatusOr<int> schema_version() const;

  // --- Sweeps -------------------------------------------------------------------
  // Records the sweep (spec snapshot, studies) and inserts the trials that do not exist
  // yet as pending; membership of cells no longer in the spec is kept but marked stale.
  // One transaction. Returns the sweep id.
  StatusOr<int64_t> UpsertSweep(const SweepDef& def);
  // The same with the cells streamed instead of held (a 100,000-cell sweep is recorded
  // without its cells in memory, issue 18): `def` gives the sweep and its studies (their
  // `cells` are ignored) and `cells`, called once inside the transaction, hands every
  // cell to `add` with its study's index in def.studies, in spec order (studies in order,
  // each study's cells in order). Nothing is committed unless `cells` returns Ok: its
  // error (or add's) is returned and the database is as it was.
  using AddCell = std::function<Status(size_t study, const CellDef& cell)>;
  StatusOr<int64_t> UpsertSweep(const SweepDef& def,
                                const std::function<Status(const AddCell& add)>& cells);
  StatusOr<std::vector<SweepRecord>> ListSweeps() const;
  StatusOr<std::optional<SweepRecord>> FindSweep(const std::string& name) const;
  StatusOr<std::vector<StudyRecord>> Studies(int64_t sweep_id) const;
  // Trials of the sweep with their membership (one row per study the cell is in), in
  // spec order; stale cells last.
  StatusOr<std::vector<TrialRecord>> Trials(int64_t sweep_id) const;
  // The same rows without their labels ("") and ok_replicates (0, not counted): the
  // report counts a trial's ok attempts in the attempts it reads anyway, and the count
  // is a probe of the attempts per trial here.
  StatusOr<std::vector<TrialRecord>> TrialsWithoutCounts(int64_t sweep_id) const;
  // The same rows one at a time, each with its final attempt's metrics (empty when it
  // has none): `orch export` streams 100,000 trials without holding them.
  Status ForEachTrial(int64_t sweep_id,
                      const std::function<void(TrialRecord&&, const std::map<std::string, double>&)>&
                          each) const;
  // The names used by the sweep's trials: the top-level keys of their configs (JSON
  // objects only) and of their final attempts' metrics, each sorted (CSV headers).
  StatusOr<std::set<std::string>> ConfigKeys(int64_t sweep_id) const;
  StatusOr<std::set<std::string>> FinalMetricNames(int64_t sweep_id) const;
  StatusOr<std::vector<StudyCounts>> Counts(int64_t sweep_id) const;
  // Every trial key of the sweep whose state is not done (in spec only).
  StatusOr<int> UnfinishedCount(int64_t sweep_id) const;
  // What `orch run` shows before it starts, in one aggregate query (no trial is read
  // into memory): the sweep's distinct in-spec trials, those not done, and the worker
  // processes their missing replicates need (at least one each).
  struct SweepProgress {
    int64_t total = 0, pending = 0, processes_left = 0;
  };
  StatusOr<SweepProgress> Progress(int64_t sweep_id) const;
  // "A quant=int8wo window=64": the study and label of the trial's first in-spec cell in
  // spec order (as Trials lists it); "" when the sweep has no in-spec cell of it. One
  // indexed lookup: `orch run` labels each trial it runs without a map of them all.
  StatusOr<std::string> TrialLabel(int64_t sweep_id, const std::string& trial_key) const;

  // --- Runs and ownership -------------------------------------------------------
  // Records a new run holding a lease of `lease_s` seconds from now. The run claims
  // from the plan `plan_hash` of the sweep (the one this orch expanded and recorded with
  // UpsertSweep), or from the sweep's current plan when nullopt. An error when that plan
  // is gone (another orch planned the sweep again and no live run used it).
  StatusOr<int64_t> BeginRun(int64_t sweep_id, const Owner& owner,
                             const std::string& provenance_json, double lease_s = 60,
                             const std::optional<std::string>& plan_hash = std::nullopt);
  // Cells of the run's plan whose trial is not done (the run's own work left, whatever
  // another run's edited spec planned): those it may still claim, and those of studies
  // cancelled under it (`orch cancel --study`).
  struct RunLeft {
    int64_t unfinished = 0;
    int64_t cancelled = 0;
  };
  StatusOr<RunLeft> RunUnfinishedCount(int64_t run_id) const;
  // Whether the trial belongs to a study cancelled under the run (not to be claimed;
  // its running attempt is to be stopped).
  StatusOr<bool> Held(int64_t run_id, const std::string& trial_key) const;
  // Refreshes the run's lease: it now expires `lease_s` seconds from now.
  Status RenewLease(int64_t run_id, double lease_s);
  Status EndRun(int64_t run_id, int exit_code);
  // `orch cancel`: asks every live (unfinished) run of the sweep to stop; returns how
  // many runs were asked. A run reads it with CancelRequested at lease refresh. With a
  // study: only that study's cells stop: live runs no longer claim them (Held) and stop
  // their running attempts; the runs go on with the other studies. A later run of the
  // plan (`orch resume`) claims them again.
  StatusOr<int> RequestCancel(int64_t sweep_id, const std::string& study_id = "");
  StatusOr<bool> CancelRequested(int64_t run_id) const;
  StatusOr<std::optional<RunRecord>> FindRun(int64_t run_id) const;
  // Records `interrupted` for an attempt that is not finished yet and returns its trial
  // to pending, in one transaction: a dead orchestrator or a machine fault is not the
  // trial's fault, and interrupted attempts never use up the trial's retries. Sets
  // *superseded (when given) and changes nothing if the attempt was already finished.
  Status InterruptAttempt(int64_t attempt_id, const std::string& reason,
                          bool* superseded = nullptr);

  // --- Claims -------------------------------------------------------------------
  // Atomically takes the next pending replicate of the run's plan (BeginRun), creates
  // its attempt (number = previous + 1, directory from `attempt_dir_for`, which may
  // create it and fail) and marks the trial running. nullopt when nothing is pending.
  // Order (claim_order.h): lowest replicate first (round-robin over the cells), within a
  // round as the sweep's claim_order says. The replicate is the trial's ok attempts + 1;
  // a trial runs one attempt at a time, so two replicates of one cell never overlap. The
  // claim's try_number counts this replicate's attempts since the last --retry-failed
  // that were not `interrupted`. O(log n): one lookup in the claim queue
  // (store/claim_queue.h), kept in step by every write that changes a trial's state.
  StatusOr<std::optional<Claim>> ClaimNext(
      int64_t sweep_id, int64_t run_id, const Owner& owner, const std::string& slot,
      const std::function<StatusOr<std::string>(const std::string& key, int number)>&
          attempt_dir_for);
  // Records the attempt's worker once it is spawned: its log, pid and pid start time.
  Status SetAttemptWorker(int64_t attempt_id, const std::string& log_path, int64_t pid,
                          int64_t pid_start);
  // Records the executor's job id of a submitted attempt (SLURM: "12345_7"). Attempts
  // with a job id are judged by the executor's state, not by their orch process.
  Status SetAttemptJob(int64_t attempt_id, const std::string& job_id);
  // Stores the whole result and moves the trial to done (terminal) or pending (retry),
  // in one transaction. A terminal ok is done only when it is the trial's last needed
  // replicate (ok attempts = replicates); before that the trial is pending again. An attempt already finished (declared interrupted by another
  // orchestrator that found its owner gone) keeps its first verdict: that is an error,
  // or, when `superseded` is given, *superseded = true and Ok.
  Status FinishAttempt(const AttemptResult& result, bool* superseded = nullptr);
  // The try number `attempt_id` had (as Claim::try_number), for recovered attempts.
  StatusOr<int> TryNumber(int64_t attempt_id) const;
  // `--retry-failed`: done trials of the sweep whose outcome is not ok become pending.
  StatusOr<int> ResetFailed(int64_t sweep_id);

  // --- Reads for status, show, export and report --------------------------------
  // A read transaction: until it is destroyed, every read of this Store sees the one
  // state of the database it began at, whatever other processes commit meanwhile (WAL
  // keeps that state for it), so a report taken while a run writes never mixes two.
  // At most one per Store at a time; no writes through the Store while it lives.
  class ReadSnapshot {
   public:
    ~ReadSnapshot();
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

   private:
    friend class Store;
    explicit ReadSnapshot(sqlite3* db) : db_(db) {}
    sqlite3* db_;
  };
  StatusOr<std::unique_ptr<ReadSnapshot>> BeginRead() const;

  // Every read returns its SQLite error (busy, I/O, corruption) as a Status: an error
  // never reads as "no rows" or 0.
  // Finds a trial by key or unique key prefix (at least 4 hex chars).
  StatusOr<TrialRecord> FindTrial(const std::string& key_or_prefix) const;
  StatusOr<std::vector<AttemptRecord>> Attempts(const std::string& trial_key) const;
  StatusOr<std::optional<AttemptRecord>> FindAttempt(int64_t attempt_id) const;
  // The sweep's attempts (one study's, when given) that have an executor job id and are
  // not finished: one indexed query.
  StatusOr<std::vector<AttemptRecord>> UnfinishedJobAttempts(
      int64_t sweep_id, const std::string& study_id = "") const;
  // The sweep's most recent attempt (highest id); nullopt when it has none.
  StatusOr<std::optional<AttemptRecord>> LatestAttempt(int64_t sweep_id) const;
  // Attempts started and not finished (running, or orphaned by a dead orchestrator).
  StatusOr<std::vector<AttemptRecord>> UnfinishedAttempts() const;
  StatusOr<std::map<std::string, double>> Metrics(int64_t attempt_id) const;
  // The attempt's per-token samples in (repeat, index) order (schema 6 keeps them as one
  // blob per attempt, store/sample_blob.h; the values come back bit for bit).
  StatusOr<std::vector<Sample>> Samples(int64_t attempt_id) const;

  // Whole-sweep reads that stream: one query each, `each` called once per row or
  // attempt, nothing held beyond it (`orch export` reads 100,000-trial sweeps with them).
  // "The sweep's attempts" are those of every trial the sweep has a cell of.
  // Its attempts, by trial key then number.
  Status ForEachAttempt(int64_t sweep_id,
                        const std::function<void(AttemptRecord&&)>& each) const;
  // Their samples, one call per attempt that has any, by attempt id; `ok_only`: only
  // attempts that finished ok.
  Status ForEachSamples(
      int64_t sweep_id, bool ok_only,
      const std::function<void(int64_t attempt_id, std::vector<Sample>&& samples)>& each) const;
  // The report's reads (report/snapshot.cc): plain passes over a table in id order with
  // no join, the caller keeping the rows of its sweep. At 100,000 trials they cost about
  // half of sweep-keyed reads like those above, which check every row against the sweep's
  // 100,000 trial keys and sort the sample blobs (issue 18); reading a sweep that is a
  // small part of a large database, they read the rows of the other sweeps too.
  // Every attempt of the database, by id (a trial's in number order), without the
  // columns no report shows (attempt_dir, log_path and owner.host are left empty).
  Status ForEachAttemptById(const std::function<void(AttemptRecord&&)>& each) const;
  // Those of attempts with ids in [first_id, last_id] (a sweep's attempts span one range
  // of ids, or interleave with another sweep's when their runs took turns):
  // metrics (NaN: not finite), by attempt id, then name;
  Status ForEachMetricInRange(
      int64_t first_id, int64_t last_id,
      const std::function<void(int64_t attempt_id, const std::string& name, double value)>& each)
      const;
  // sample blobs as stored (store/sample_blob.h), undecoded, by attempt id: `blob` is
  // valid only during the call (the report decodes them with DecodeLatencyRepeats).
  Status ForEachSampleBlobInRange(
      int64_t first_id, int64_t last_id,
      const std::function<void(int64_t attempt_id, std::string_view blob)>& each) const;
  // Median duration of finished ok attempts of the sweep (for ETAs); nullopt if none.
  StatusOr<std::optional<double>> MedianOkDuration(int64_t sweep_id) const;

  // --- Input fingerprints, cached by (path, size, mtime) --------------------------
  StatusOr<std::optional<std::string>> CachedFingerprint(const std::string& path, int64_t size,
                                                         int64_t mtime_ns) const;
  Status PutFingerprint(const std::string& path, int64_t size, int64_t mtime_ns,
                        const std::string& sha256);

  // `PRAGMA integrity_check`, then the study counts against a recount: ok or the first
  // problem.
  Status IntegrityCheck() const;
  // How long a write waits for another process's lock before failing with Busy
  // (default 30 s).
  void SetBusyTimeout(int ms);
  // Counts the SQLite virtual-machine instructions this connection runs into *counter
  // (nullptr stops counting), so a test can compare the work of a call at
  // two sweep sizes: a count, never a time.
  void CountSqlWork(uint64_t* counter);

 private:
  Store(sqlite3* db, std::string path, bool read_only);
  static StatusOr<std::unique_ptr<Store>> OpenNeverWrite(const std::string& path);
  sqlite3* db_;
  std::string path_;
  bool read_only_;
};

std::string TrialStateName(TrialState s);

}  // namespace orch::store
