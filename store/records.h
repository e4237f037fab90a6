// The plain records the store reads and writes: sweeps, studies, trials, attempts, metrics
// and per-token samples. Value types with no behaviour; what each field means is the
// contract between store/, the orchestrator and report/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace orch::store {

// One cell of a study, as the orchestrator expanded it.
struct CellDef {
  std::string key;          // trial key (64 hex chars)
  std::string config_json;  // canonical resolved config (sorted keys)
  std::string label;        // the keys the matrix chose, for display ("quant=int8wo window=64")
  // The config's `repeats`: how many replicates (fresh worker processes, one attempt
  // each) the trial needs before it is done ok.
  int replicates = 1;
};

struct StudyDef {
  std::string id;             // the spec's study id, e.g. "A"
  std::string title;
  std::string notes;          // free text from the spec
  std::string baseline_json;  // partial config naming the study's baseline, "{}" if unset
  std::vector<CellDef> cells;
};

// What `orch run` records about a sweep before it runs anything.
struct SweepDef {
  std::string name;
  std::string spec_path;    // absolute path of the YAML it came from
  std::string spec_text;    // snapshot of the YAML, for `orch resume`
  std::string spec_hash;    // sha256 of spec_text
  std::string context;      // the spec's `context` text
  std::string conclusion;   // the spec's optional `conclusion` text
  // Hash of everything the expansion depends on (spec text, inputs, worker): when it is
  // unchanged, `orch run`/`resume` skip re-expanding and re-recording the sweep.
  std::string plan_hash;
  // The order replicates are claimed in (docs/design.md, "Replicates"): "interleaved"
  // (round-robin over the cells in spec order) or "random:SEED" (round-robin, each round
  // in a seeded random order).
  std::string claim_order = "interleaved";
  std::vector<StudyDef> studies;
};

struct SweepRecord {
  int64_t id = 0;
  std::string name, spec_path, spec_text, spec_hash, context, conclusion, plan_hash;
  std::string created_utc, updated_utc;
  std::string claim_order = "interleaved";  // as SweepDef::claim_order
};

struct StudyRecord {
  int64_t sweep_id = 0;
  std::string id, title, notes, baseline_json;
  int position = 0;     // order in the spec
  bool in_spec = true;  // false when the latest spec no longer has this study
};

enum class TrialState { kPending, kRunning, kDone };

struct TrialRecord {
  std::string key;
  std::string config_json;
  TrialState state = TrialState::kPending;
  std::string outcome;  // outcome class name once done (see base/outcome.h), else ""
  std::string reason;   // one line for everything but ok
  int attempts = 0;     // attempts started so far
  int replicates = 1;     // replicates the trial needs (the config's `repeats`); 1 for
                          // trials done before replicates were processes
  int ok_replicates = 0;  // attempts that ended ok (each one replicate)
  std::optional<int64_t> final_attempt_id;  // the attempt whose result decided the outcome
  // Membership, filled by queries that read a sweep's trials:
  std::string study_id;
  int position = 0;      // order of the cell in its study
  std::string label;     // the matrix keys of the cell, for display
  bool in_spec = true;   // false = stale: the cell is no longer in the spec
};

// The process that owns (ran) an attempt; used to detect attempts whose owner is gone.
struct Owner {
  std::string host;
  int64_t pid = 0;
  int64_t pid_start = 0;  // process start time (clock ticks since boot), guards pid reuse
  // The owner's PID namespace ("pid:[4026531836]"); its pid means something here only
  // when host and namespace both match ours. Recorded with runs; "" when unknown.
  std::string pid_ns;
};

struct AttemptRecord {
  int64_t id = 0;
  std::string trial_key;
  int number = 0;  // 1-based per trial
  int replicate = 1;  // which replicate the attempt measured (1-based); retries keep it
  int64_t run_id = 0;
  Owner owner;
  std::string slot;     // "gpu:1", "cpu:0"
  bool finished = false;
  std::string outcome, reason;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string stderr_tail;
  std::string attempt_dir;
  std::string log_path;
  std::string started_utc, finished_utc;
  double duration_s = 0;
  std::string details_json = "{}";      // worker's details (nan token/layer, ...)
  std::string warnings_json = "[]";     // methodology warnings
  std::string environment_json = "{}";  // worker-side environment (LibTorch, CUDA, device)
  // The worker process (0 until it was spawned) and its start time, on owner.host.
  int64_t worker_pid = 0;
  int64_t worker_pid_start = 0;
  // The executor's job id (SLURM "12345_7"), "" for attempts the local executor ran.
  std::string job_id;
};

struct Sample {
  int repeat = 0;
  int index = 0;  // token index within the repeat
  double latency_ms = 0;
  double nll = 0;
  bool warmup = false;  // excluded from latency statistics, not from PPL
};

// Everything an attempt produced, stored in one transaction by FinishAttempt.
struct AttemptResult {
  int64_t attempt_id = 0;
  std::string outcome;  // outcome class name
  std::string reason;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string stderr_tail;
  double duration_s = 0;
  std::map<std::string, double> metrics;
  std::vector<Sample> samples;
  std::string details_json = "{}";
  std::string warnings_json = "[]";
  std::string environment_json = "{}";
  // true: the trial is done with this outcome; false: it goes back to pending (a retry).
  bool terminal = true;
};

// One `orch run` / `orch resume` process working on a sweep; holds its provenance.
struct RunRecord {
  int64_t id = 0;
  int64_t sweep_id = 0;
  Owner owner;
  std::string started_utc, finished_utc;
  std::optional<int> exit_code;
  std::string provenance_json = "{}";
  // Ownership lease (unix seconds): the run refreshes heartbeat_s while it lives; after
  // lease_expires_s it is gone wherever it runs. Both unset for runs of schema v1.
  std::optional<double> heartbeat_s;
  std::optional<double> lease_expires_s;
};

struct Claim {
  std::string trial_key;
  std::string config_json;
  int64_t attempt_id = 0;
  int attempt_number = 0;  // 1-based over the trial's whole life
  int try_number = 0;      // 1-based tries of this replicate since the last --retry-failed
                           // (for the retry budget)
  int replicate = 1;       // 1-based: this attempt measures replicate `replicate` of
  int replicates = 1;      // `replicates` (one fresh worker process each)
  std::string attempt_dir;
};


// Counts for `orch status`: per study, pending / running / done by outcome class.
struct StudyCounts {
  std::string study_id;
  int pending = 0, running = 0;
  std::map<std::string, int> done;  // outcome -> count
  int stale = 0;                    // cells no longer in the spec (any state)
  // Replicate progress over the study's in-spec cells: ok replicates recorded (at most
  // each cell's target) and the targets' sum.
  int64_t replicates_ok = 0, replicates_total = 0;  // 64-bit: repeats up to 10^6 per cell
};

}  // namespace orch::store
