#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>

#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/slurm_run.h"
#include "orchestrator/network_fs.h"
#include "orchestrator/attempt/ownership.h"
#include "orchestrator/cli/progress_printer.h"
#include "orchestrator/provenance.h"
#include "orchestrator/local/recovery.h"
#include "orchestrator/local/scheduler.h"
#include "orchestrator/slurm/slurm_executor.h"
#include "orchestrator/plan/sweep_plan.h"
#include "text/dataset.h"
#include "store/store.h"

namespace orch::cli {
namespace {

struct RunOptions {
  std::string spec, db, sweep, gpus;
  int jobs = 1;
  bool retry_failed = false;
  double kill_grace_s = 5;
  // "local" or "slurm"; "" = slurm when the sweep has SLURM jobs, or for `resume` when
  // its latest attempt ran on SLURM
  std::string executor;
  bool resume = false;
  SlurmCli slurm;
};

int g_interrupt_pipe[2] = {-1, -1};

void OnSignal(int) {
  int saved = errno;
  char c = 1;
  (void)!::write(g_interrupt_pipe[1], &c, 1);
  errno = saved;
}

// Ctrl-C, SIGTERM and SIGHUP stop the sweep cleanly. A signal the parent left ignored
// stays ignored: `nohup orch run ... &` must survive the logout's SIGHUP. False when
// the self-pipe cannot be made: without it Ctrl-C would kill orch by default and leave
// its workers (each in its own process group) running, so nothing must start then.
bool InstallSignalHandlers() {
  if (g_interrupt_pipe[0] < 0) {
    if (::pipe2(g_interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(sig, &sa, nullptr);
  }
  signal(SIGPIPE, SIG_IGN);  // a worker closing its event pipe must not kill us
  return true;
}

void PrintErrors(const std::vector<SpecError>& errors, const std::string& spec) {
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  std::fprintf(stderr, "%zu error(s) in %s: nothing was run or written\n", errors.size(),
               spec.c_str());
}

// Inputs the worker reads: absolute paths, and the dataset's token ids, prepared once.
// nullopt after printing the error.
std::optional<nlohmann::json> WorkerInputs(const SweepPlan& plan, const std::string& results_dir) {
  nlohmann::json inputs = nlohmann::json::object();
  if (!plan.inputs.model_dir.empty()) inputs["model"] = plan.inputs.model_dir;
  if (!plan.inputs.tokenizer.empty()) inputs["tokenizer"] = plan.inputs.tokenizer;
  if (plan.inputs.dataset_is_token_ids) {
    // Pre-tokenized: little-endian int32 ids, used as they are.
    std::error_code ec;
    auto size = std::filesystem::file_size(plan.inputs.dataset, ec);
    if (ec) {
      std::fprintf(stderr, "orch: %s: %s\n", plan.inputs.dataset.c_str(), ec.message().c_str());
      return std::nullopt;
    }
    if (size % 4 != 0) {
      std::fprintf(stderr, "orch: %s: a .ids dataset holds int32 token ids; its size (%ju bytes) is not a multiple of 4\n",
                   plan.inputs.dataset.c_str(), static_cast<uintmax_t>(size));
      return std::nullopt;
    }
    inputs["dataset"] = plan.inputs.dataset;
    inputs["token_ids"] = plan.inputs.dataset;
    inputs["token_count"] = size / 4;
  } else if (!plan.inputs.dataset.empty()) {
    inputs["dataset"] = plan.inputs.dataset;
    auto ids = text::PrepareTokenIds(plan.inputs.tokenizer, plan.inputs.dataset,
                                     results_dir + "/cache/tokens");
    if (!ids.ok()) {
      std::fprintf(stderr, "orch: preparing the dataset: %s\n", ids.status().message().c_str());
      return std::nullopt;
    }
    inputs["token_ids"] = ids->path;
    inputs["token_count"] = ids->count;
    if (!ids->from_cache) {
      std::fprintf(stderr, "orch: tokenized %s: %lld tokens\n", plan.inputs.dataset.c_str(),
                   static_cast<long long>(ids->count));
    }
  }
  return inputs;
}

// Recovery of attempts whose orch is gone (recovery.h); false after printing an error.
bool Recover(store::Store& db, const RunOptions& o) {
  auto rec = RecoverOrphans(db, o.kill_grace_s);
  if (!rec.ok()) {
    std::fprintf(stderr, "orch: recovering attempts of a previous orch: %s\n",
                 rec.status().message().c_str());
    return false;
  }
  if (rec->workers_stopped > 0) {
    std::fprintf(stderr, "orch: stopped %d worker(s) still running for a previous orch that died\n",
                 rec->workers_stopped);
  }
  if (rec->ingested > 0) {
    std::fprintf(stderr, "orch: recorded %d result(s) that workers finished while no orch was running\n",
                 rec->ingested);
  }
  if (rec->interrupted > 0) {
    std::fprintf(stderr, "orch: %d attempt(s) of a previous orch that died were marked interrupted and will run again\n",
                 rec->interrupted);
  }
  return true;
}

// SQLite's locks and WAL need a local filesystem; say so before anything is written.
void WarnIfNetworkFilesystem(const std::string& db_path) {
  if (auto fs = NetworkFilesystemName(db_path)) {
    std::fprintf(stderr, "orch: warning: the database %s is on a network filesystem (%s); "
                 "SQLite locking and WAL are not safe there. Keep --db on a local disk "
                 "(see docs/design.md, \"Running on a cluster\")\n", db_path.c_str(), fs->c_str());
  }
}

// The exit code and closing message of a finished, failed or interrupted run.
int ReportOutcome(store::Store& db, int64_t sweep_id, int64_t run_id, const Spec& spec,
                  int total, const StatusOr<SchedulerResult>& result) {
  if (!result.ok()) {
    std::fprintf(stderr, "orch: %s; running workers were stopped; run `orch run %s` again "
                 "to continue\n", result.status().message().c_str(), spec.path.c_str());
    return kExitInternal;
  }
  if (result->interrupted) {
    std::fprintf(stderr, "orch: interrupted; run `orch run %s` again to continue\n",
                 spec.path.c_str());
    return kExitInterrupted;
  }
  if (!result->machine_fault.empty()) {
    std::fprintf(stderr, "orch: stopped starting trials because of a fault of this machine, "
                 "not of the trial: %s; the trial is pending again; fix the machine and run "
                 "`orch run %s` again\n", result->machine_fault.c_str(), spec.path.c_str());
    return kExitInternal;
  }
  // This run's own cells: another orch may have planned the sweep again meanwhile.
  auto left = db.RunUnfinishedCount(run_id);
  if (!left.ok()) {
    std::fprintf(stderr, "orch: %s\n", left.status().message().c_str());
    return kExitInternal;
  }
  int failed = 0;
  auto counts = db.Counts(sweep_id);
  if (!counts.ok()) {
    std::fprintf(stderr, "orch: %s\n", counts.status().message().c_str());
    return kExitInternal;
  }
  for (const auto& c : *counts) {
    for (const auto& [outcome, n] : c.done) failed += outcome == "ok" ? 0 : n;
  }
  if (left->unfinished > 0) {
    std::fprintf(stderr, "orch: %lld trial(s) are still running under another orch on this "
                 "database\n", static_cast<long long>(left->unfinished));
    return kExitInternal;
  }
  if (left->cancelled > 0) {
    std::fprintf(stderr, "orch: %lld trial(s) of cancelled studies did not run; `orch resume` "
                 "runs them\n", static_cast<long long>(left->cancelled));
    return kExitInterrupted;
  }
  std::printf("sweep %s complete: %d trials, %d failed (see `orch status`)\n",
              spec.name.c_str(), total, failed);
  return kExitOk;
}

// What the run's progress line and first message need from the sweep, in one read.
struct SweepFacts {
  std::map<std::string, std::string> labels;  // key -> "A quant=int8wo window=64"
  int total = 0, pending = 0;
  int64_t processes_left = 0;  // worker processes the unfinished replicates need
  std::optional<double> median_ok_s;
};

StatusOr<SweepFacts> ReadSweepFacts(const store::Store& db, int64_t sweep_id) {
  SweepFacts f;
  auto trials = db.Trials(sweep_id);
  if (!trials.ok()) return trials.status();
  for (const store::TrialRecord& t : *trials) {
    if (!t.in_spec) continue;
    if (!f.labels.emplace(t.key, t.study_id + " " + t.label).second) continue;
    if (t.state != store::TrialState::kDone) {
      ++f.pending;
      f.processes_left += std::max(1, t.replicates - t.ok_replicates);
    }
  }
  f.total = static_cast<int>(f.labels.size());
  auto median = db.MedianOkDuration(sweep_id);
  if (!median.ok()) return median.status();
  f.median_ok_s = *median;
  return f;
}

// Everything after the spec is parsed: record, recover, run, report the exit code.
int RunParsed(SpecParse parsed, const std::string& spec_path_abs, const RunOptions& o) {
  if (!parsed.ok()) {
    PrintErrors(parsed.errors, parsed.spec.path);
    return kExitUsage;
  }
  auto slots = MakeSlots(o.gpus, o.jobs);
  if (!slots.ok()) {
    std::fprintf(stderr, "orch: %s\n", slots.status().message().c_str());
    return kExitUsage;
  }
  WarnIfNetworkFilesystem(o.db);
  auto opened = store::Store::Open(o.db);
  if (!opened.ok()) {
    std::fprintf(stderr, "orch: %s\n", opened.status().message().c_str());
    return kExitInternal;
  }
  store::Store& db = **opened;
  if (const char* ms = std::getenv("ORCH_DB_BUSY_TIMEOUT_MS")) db.SetBusyTimeout(std::atoi(ms));
  std::vector<SpecError> input_errors;
  ResolvedInputs resolved = ResolveInputs(parsed.spec, &db, /*write_cache=*/true, &input_errors);
  // An unchanged plan (same spec text, inputs and worker) is already recorded: skip
  // expanding and re-recording it, so resuming a 10,000-trial sweep starts at once.
  std::string plan_hash = PlanHash(parsed.spec, resolved);
  auto found = db.FindSweep(parsed.spec.name);
  if (!found.ok()) {
    std::fprintf(stderr, "orch: %s\n", found.status().message().c_str());
    return kExitInternal;
  }
  std::optional<store::SweepRecord> recorded = *found;
  bool replan = !input_errors.empty() || !recorded || recorded->plan_hash != plan_hash;
  parsed.errors = std::move(input_errors);
  SweepPlan plan;
  if (replan) {
    plan = BuildPlan(std::move(parsed), std::move(resolved));
  } else {
    plan.spec = std::move(parsed.spec);
    plan.inputs = std::move(resolved);
  }
  if (!plan.ok()) {
    PrintErrors(plan.errors, plan.spec.path);
    return kExitUsage;
  }
  for (const auto& es : plan.studies) {
    for (const auto& w : es.warnings) std::fprintf(stderr, "warning: %s\n", w.ToString().c_str());
  }
  std::string results_dir = std::filesystem::absolute(o.db).parent_path().string();
  std::optional<nlohmann::json> inputs = WorkerInputs(plan, results_dir);
  if (!inputs) return kExitUsage;
  StatusOr<int64_t> sweep_id = replan ? db.UpsertSweep(plan.ToSweepDef(spec_path_abs))
                                      : StatusOr<int64_t>(recorded->id);
  if (!sweep_id.ok()) {
    std::fprintf(stderr, "orch: %s\n", sweep_id.status().message().c_str());
    return kExitInternal;
  }
  // The executor: SLURM when asked, or when the sweep has jobs with SLURM (resume).
  auto jobs = slurm::UnfinishedJobs(db, *sweep_id);
  auto last_slurm = o.resume ? slurm::LastRanOnSlurm(db, *sweep_id) : StatusOr<bool>(false);
  if (!jobs.ok() || !last_slurm.ok()) {
    std::fprintf(stderr, "orch: %s\n",
                 (jobs.ok() ? last_slurm.status() : jobs.status()).message().c_str());
    return kExitInternal;
  }
  bool has_jobs = !jobs->empty();
  if (o.executor == "local" && has_jobs) {
    std::fprintf(stderr, "orch: sweep %s has trials submitted to SLURM; continue it with "
                 "--executor slurm (or `orch resume`), or `orch cancel` them first\n",
                 plan.spec.name.c_str());
    return kExitUsage;
  }
  bool on_slurm = o.executor == "slurm" ||
                  (o.executor.empty() && (has_jobs || *last_slurm));
  slurm::SlurmOptions slurm_opts;
  if (!ResolveSlurmOptions(plan.spec, o.slurm, &slurm_opts)) return kExitUsage;
  if (o.slurm.detach && !on_slurm) {
    std::fprintf(stderr, "orch: --detach needs --executor slurm\n");
    return kExitUsage;
  }
  if (!Recover(db, o)) return kExitInternal;
  if (o.retry_failed) {
    auto n = db.ResetFailed(*sweep_id);
    if (!n.ok()) {
      std::fprintf(stderr, "orch: %s\n", n.status().message().c_str());
      return kExitInternal;
    }
    if (*n > 0) std::fprintf(stderr, "orch: %d failed trial(s) will run again\n", *n);
  }
  auto facts = ReadSweepFacts(db, *sweep_id);
  if (!facts.ok()) {
    std::fprintf(stderr, "orch: %s\n", facts.status().message().c_str());
    return kExitInternal;
  }
  std::map<std::string, std::string>& labels = facts->labels;
  int total = facts->total;
  int pending = facts->pending;
  if (pending == 0) {
    std::printf("sweep %s: all %d trials already have a terminal outcome; nothing to run "
                "(--retry-failed reruns failures)\n", plan.spec.name.c_str(), total);
    return kExitOk;
  }
  std::printf("sweep %s: %d trials, %d to run, database %s\n", plan.spec.name.c_str(), total,
              pending, o.db.c_str());
  std::fflush(stdout);

  if (!InstallSignalHandlers()) {
    std::fprintf(stderr, "orch: cannot create the pipe for Ctrl-C handling: %s; nothing was "
                         "started (free descriptors, see ulimit -n, then run again)\n",
                 std::strerror(errno));
    return kExitInternal;
  }
  if (on_slurm) {
    SlurmRunRequest req;
    req.sweep_id = *sweep_id;
    req.sweep_name = plan.spec.name;
    req.plan_hash = plan_hash;
    req.spec_path = plan.spec.path;
    req.worker = std::filesystem::absolute(plan.inputs.worker).string();
    req.results_dir = results_dir;
    req.inputs = *inputs;
    req.options = slurm_opts;
    req.detach = o.slurm.detach;
    req.interrupt_fd = g_interrupt_pipe[0];
    req.total = total;
    req.labels = std::move(labels);
    for (const auto& [name, w] : plan.inputs.workers) req.workers[name] = w.path;
    return RunSlurm(db, req);
  }
  store::Owner owner = SelfRunOwner();
  LeaseSettings lease = LeaseSettingsFromEnv();
  auto run_id = db.BeginRun(*sweep_id, owner, CollectProvenance().dump(), lease.lease_s,
                            plan_hash);
  if (!run_id.ok()) {
    std::fprintf(stderr, "orch: %s\n", run_id.status().message().c_str());
    return kExitInternal;
  }
  SchedulerOptions so;
  so.sweep_id = *sweep_id;
  so.run_id = *run_id;
  so.owner = owner;
  so.slots = *slots;
  so.worker = plan.inputs.worker;
  for (const auto& [name, w] : plan.inputs.workers) so.workers[name] = w.path;
  so.inputs = *inputs;
  so.runs_dir = results_dir + "/runs";
  so.kill_grace_s = o.kill_grace_s;
  so.interrupt_fd = g_interrupt_pipe[0];
  so.lease_s = lease.lease_s;
  so.lease_refresh_s = lease.refresh_s;
  ProgressPrinter printer(stdout, ProgressPrinter::IsSmartTerminal(stdout), total,
                          total - pending, std::move(labels), facts->median_ok_s);
  printer.SetProcessesLeft(static_cast<int>(std::min<int64_t>(facts->processes_left, INT32_MAX)));
  auto result = RunSweep(db, so, printer);
  printer.Finish();
  int code = ReportOutcome(db, *sweep_id, *run_id, plan.spec, total, result);
  (void)db.EndRun(*run_id, code);
  return code;
}

int RunRun(const RunOptions& o) {
  std::string abs = std::filesystem::absolute(o.spec).lexically_normal().string();
  return RunParsed(LoadSpec(o.spec), abs, o);
}

int RunResume(const RunOptions& o) {
  auto opened = store::Store::Open(o.db, store::OpenMode::kReadOnly);
  if (!opened.ok()) {
    std::fprintf(stderr, "orch: %s\n", opened.status().message().c_str());
    return kExitUsage;
  }
  auto listed = (*opened)->ListSweeps();
  if (!listed.ok()) {
    std::fprintf(stderr, "orch: %s\n", listed.status().message().c_str());
    return kExitInternal;
  }
  const std::vector<store::SweepRecord>& sweeps = *listed;
  const store::SweepRecord* chosen = nullptr;
  for (const auto& s : sweeps) {
    if (o.sweep.empty() ? sweeps.size() == 1 : s.name == o.sweep) chosen = &s;
  }
  if (!chosen) {
    std::string names;
    for (const auto& s : sweeps) names += " " + s.name;
    std::fprintf(stderr, "orch: %s: %s (sweeps:%s)\n", o.db.c_str(),
                 sweeps.empty() ? "holds no sweep" : "name the sweep with --sweep",
                 names.empty() ? " none" : names.c_str());
    return kExitUsage;
  }
  store::SweepRecord sweep = *chosen;
  opened->reset();
  // The spec snapshot, with its original path for messages and relative inputs.
  RunOptions resumed = o;
  resumed.resume = true;
  return RunParsed(ParseSpec(sweep.spec_path, sweep.spec_text), sweep.spec_path, resumed);
}

void AddRunOptions(CLI::App* cmd, RunOptions* o) {
  AddDbOption(cmd, &o->db);
  cmd->add_option("--gpus", o->gpus, "GPU indices, one trial per GPU (e.g. 0,1)");
  cmd->add_option("-j,--jobs", o->jobs, "trials at once on the CPU (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--retry-failed", o->retry_failed, "run failed trials again");
  cmd->add_option("--kill-grace", o->kill_grace_s,
                  "seconds between SIGTERM and SIGKILL when stopping a worker (default 5)");
  cmd->add_option("--executor", o->executor,
                  "local (default) or slurm (job arrays; see docs/slurm.md)")
      ->check(CLI::IsMember({"local", "slurm"}));
  AddSlurmOptions(cmd, &o->slurm);
}

}  // namespace

void SetupRun(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand("run", "Run every trial of a spec that has no terminal outcome yet");
  run->add_option("spec", o->spec, "experiment spec (YAML)")->required();
  AddRunOptions(run, o.get());
  run->callback([o, exit_code] { *exit_code = RunRun(*o); });

  auto r = std::make_shared<RunOptions>();
  CLI::App* resume = app.add_subcommand("resume", "Continue a sweep from the spec snapshot in the database");
  resume->add_option("--sweep", r->sweep, "sweep name (needed when the database holds several)");
  AddRunOptions(resume, r.get());
  resume->callback([r, exit_code] { *exit_code = RunResume(*r); });
}

}  // namespace orch::cli
