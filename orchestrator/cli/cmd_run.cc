#include <fcntl.h>
#include <malloc.h>
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
#include "orchestrator/local/local_executor.h"
#include "orchestrator/cli/terminal_text.h"
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

// Prints `what failed: message` and returns kExitInternal (the store failing mid-way).
int StoreFailed(const Status& s) {
  std::fprintf(stderr, "orch: %s\n", s.message().c_str());
  return kExitInternal;
}

// What the run's progress line and first message need from the sweep: counts from one
// aggregate query; the labels are looked up per trial as it runs (Store::TrialLabel), so
// nothing here grows with the sweep (issue 18).
struct SweepFacts {
  int total = 0, pending = 0;
  int64_t processes_left = 0;  // worker processes the unfinished replicates need
  std::optional<double> median_ok_s;
};

StatusOr<SweepFacts> ReadSweepFacts(const store::Store& db, int64_t sweep_id) {
  auto progress = db.Progress(sweep_id);
  if (!progress.ok()) return progress.status();
  SweepFacts f;
  f.total = static_cast<int>(progress->total);
  f.pending = static_cast<int>(progress->pending);
  f.processes_left = progress->processes_left;
  auto median = db.MedianOkDuration(sweep_id);
  if (!median.ok()) return median.status();
  f.median_ok_s = *median;
  return f;
}

// A sweep planned and recorded, ready to run: the first step of RunParsed.
struct PlannedSweep {
  std::unique_ptr<store::Store> db;
  SweepPlan plan;  // spec, inputs, the studies' warnings; never the expanded cells
  std::string plan_hash;  // the plan this orch expanded: its run claims only its cells (F6)
  int64_t sweep_id = 0;
  nlohmann::json inputs;  // for trial.json
  std::string results_dir;
};

// Why recording a plan stopped before its transaction committed (nothing was written).
enum class PlanStop { kNone, kSpecErrors, kWorkerInputs };

// Expands the plan and records it in one transaction, study by study: each trial goes to
// the store as soon as its key is computed and is then dropped, so memory does not grow
// with the sweep (issue 18: the plan held whole took ~4 KB a trial, 443 MB at 100,000). The
// spec's errors, its warnings and the worker's inputs come before the commit, in the
// order `orch run` always gave them; any stop rolls everything back.
StatusOr<int64_t> ExpandAndRecord(PlannedSweep& p, const std::string& spec_path_abs,
                                  PlanStop* stop) {
  const store::SweepDef header = p.plan.SweepHeader(spec_path_abs);
  return p.db->UpsertSweep(header, [&](const store::Store::AddCell& add) -> Status {
    Status added = ExpandPlan(&p.plan, [&add](size_t study, PlannedTrial&& t) {
      return add(study, ToCellDef(t));
    });
    if (!added.ok()) return added;
    if (!p.plan.ok()) {
      *stop = PlanStop::kSpecErrors;
      return Status::Error("the spec has errors");
    }
    for (const auto& es : p.plan.studies) {
      for (const auto& w : es.warnings) std::fprintf(stderr, "warning: %s\n", w.ToString().c_str());
    }
    std::optional<nlohmann::json> inputs = WorkerInputs(p.plan, p.results_dir);
    if (!inputs) {
      *stop = PlanStop::kWorkerInputs;
      return Status::Error("the worker's inputs");
    }
    p.inputs = std::move(*inputs);
    return Status::Ok();
  });
}

// Opens the database, resolves the inputs, expands and records the plan unless the
// recorded one is unchanged (same spec text, inputs and worker: resuming a 10,000-trial
// sweep starts at once). nullopt after printing why, with the exit code in `code`.
std::optional<PlannedSweep> PlanSweep(SpecParse parsed, const std::string& spec_path_abs,
                                      const RunOptions& o, int* code) {
  *code = kExitInternal;
  WarnIfNetworkFilesystem(o.db);
  auto opened = store::Store::Open(o.db);
  if (!opened.ok()) {
    StoreFailed(opened.status());
    return std::nullopt;
  }
  PlannedSweep p;
  p.db = std::move(opened).value();
  store::Store& db = *p.db;
  if (const char* ms = std::getenv("ORCH_DB_BUSY_TIMEOUT_MS")) db.SetBusyTimeout(std::atoi(ms));
  std::vector<SpecError> input_errors;
  ResolvedInputs resolved = ResolveInputs(parsed.spec, &db, /*write_cache=*/true, &input_errors);
  p.plan_hash = PlanHash(parsed.spec, resolved);
  auto found = db.FindSweep(parsed.spec.name);
  if (!found.ok()) {
    StoreFailed(found.status());
    return std::nullopt;
  }
  const std::optional<store::SweepRecord>& recorded = *found;
  bool replan = !input_errors.empty() || !recorded || recorded->plan_hash != p.plan_hash;
  p.plan.spec = std::move(parsed.spec);
  p.plan.inputs = std::move(resolved);
  p.plan.errors = std::move(input_errors);
  p.results_dir = std::filesystem::absolute(o.db).parent_path().string();
  if (!p.plan.ok()) {
    // The inputs' errors, with the spec's own when the worker is known (as BuildPlan).
    auto drop = [](size_t, PlannedTrial&&) { return Status::Ok(); };
    if (!p.plan.inputs.worker.empty()) (void)ExpandPlan(&p.plan, drop);
    PrintErrors(p.plan.errors, p.plan.spec.path);
    *code = kExitUsage;
    return std::nullopt;
  }
  StatusOr<int64_t> sweep_id = recorded ? recorded->id : 0;
  if (replan) {
    PlanStop stop = PlanStop::kNone;
    sweep_id = ExpandAndRecord(p, spec_path_abs, &stop);
    if (stop == PlanStop::kSpecErrors) PrintErrors(p.plan.errors, p.plan.spec.path);
    if (stop != PlanStop::kNone) {
      *code = kExitUsage;
      return std::nullopt;
    }
    std::vector<std::pair<std::string, nlohmann::json>>().swap(p.plan.excluded);
    ::malloc_trim(0);  // the expansion's heap goes back to the system for the run
  } else {
    std::optional<nlohmann::json> inputs = WorkerInputs(p.plan, p.results_dir);
    if (!inputs) {
      *code = kExitUsage;
      return std::nullopt;
    }
    p.inputs = std::move(*inputs);
  }
  if (!sweep_id.ok()) {
    StoreFailed(sweep_id.status());
    return std::nullopt;
  }
  p.sweep_id = *sweep_id;
  return p;
}

struct ChosenExecutor {
  std::unique_ptr<Executor> executor;       // null after printing why
  std::optional<slurm::SlurmOptions> slurm;  // set for the SLURM executor
};

// The executor: SLURM when asked, or when the sweep has jobs with SLURM, or for `resume`
// when its latest attempt ran there; else the local slots.
ChosenExecutor ChooseExecutor(const PlannedSweep& p, const RunOptions& o,
                              const std::vector<Slot>& slots, int* code) {
  *code = kExitUsage;
  auto jobs = slurm::UnfinishedJobs(*p.db, p.sweep_id);
  auto last_slurm = o.resume ? slurm::LastRanOnSlurm(*p.db, p.sweep_id) : StatusOr<bool>(false);
  if (!jobs.ok() || !last_slurm.ok()) {
    *code = StoreFailed(jobs.ok() ? last_slurm.status() : jobs.status());
    return {};
  }
  bool has_jobs = !jobs->empty();
  if (o.executor == "local" && has_jobs) {
    std::fprintf(stderr, "orch: sweep %s has trials submitted to SLURM; continue it with "
                 "--executor slurm (or `orch resume`), or `orch cancel` them first\n",
                 p.plan.spec.name.c_str());
    return {};
  }
  bool on_slurm = o.executor == "slurm" || (o.executor.empty() && (has_jobs || *last_slurm));
  if (on_slurm) {
    slurm::SlurmOptions options;
    if (!ResolveSlurmOptions(p.plan.spec, o.slurm, &options)) return {};
    slurm::SlurmRunOptions run{options, /*submit=*/true, o.slurm.detach, /*once=*/false};
    return {std::make_unique<slurm::SlurmExecutor>(run), options};
  }
  if (o.slurm.detach) {
    std::fprintf(stderr, "orch: --detach needs --executor slurm\n");
    return {};
  }
  return {std::make_unique<LocalExecutor>(LocalOptions{slots, o.kill_grace_s}), std::nullopt};
}

// Recovery of the attempts of orchs that are gone, then `--retry-failed`; false after
// printing an error.
bool RecoverAndReset(store::Store& db, int64_t sweep_id, const RunOptions& o) {
  if (!Recover(db, o)) return false;
  if (!o.retry_failed) return true;
  auto n = db.ResetFailed(sweep_id);
  if (!n.ok()) {
    StoreFailed(n.status());
    return false;
  }
  if (*n > 0) std::fprintf(stderr, "orch: %d failed trial(s) will run again\n", *n);
  return true;
}

// The exit code and closing message of a finished, failed, cancelled or interrupted run.
int ReportOutcome(store::Store& db, const RunContext& ctx, const Spec& spec, int total,
                  bool on_slurm, const StatusOr<RunOutcome>& result) {
  if (!result.ok()) {
    const std::string why = result.status().message();
    if (on_slurm) {
      std::fprintf(stderr, "orch: %s\n", ForTerminal(why).c_str());
      return why.rfind("sbatch refused", 0) == 0 ? kExitUsage : kExitInternal;
    }
    std::fprintf(stderr, "orch: %s; running workers were stopped; run `orch run %s` again "
                 "to continue\n", why.c_str(), spec.path.c_str());
    return kExitInternal;
  }
  if (result->cancelled) {
    std::fprintf(stderr, "orch: the sweep was cancelled (`orch cancel`)%s; `orch resume` "
                 "runs the rest\n", on_slurm ? ", its SLURM jobs with it" : "");
    return kExitInterrupted;
  }
  if (on_slurm && (result->interrupted || result->still_queued > 0)) {
    // Ctrl-C or --detach: the jobs stay with SLURM and are judged by its state.
    PrintWithSlurm(db, ctx.sweep_id, result->still_queued);
    return result->interrupted ? kExitInterrupted : kExitOk;
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
  // This run's own cells: another orch may have planned the sweep again meanwhile (F6),
  // and a cancelled study's are left for `orch resume` (F11).
  auto left = db.RunUnfinishedCount(ctx.run_id);
  if (!left.ok()) return StoreFailed(left.status());
  auto counts = db.Counts(ctx.sweep_id);
  if (!counts.ok()) return StoreFailed(counts.status());
  int failed = 0;
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

// The run itself: begins it in the store (owner, provenance, lease, plan), runs the
// executor with the printer, reports and ends it.
int ExecuteRun(PlannedSweep& p, Executor& executor, bool on_slurm, SweepFacts facts) {
  store::Store& db = *p.db;
  RunContext ctx;
  ctx.sweep_id = p.sweep_id;
  ctx.sweep_name = p.plan.spec.name;
  ctx.owner = SelfRunOwner();
  ctx.worker = on_slurm ? std::filesystem::absolute(p.plan.inputs.worker).string()
                        : p.plan.inputs.worker;
  for (const auto& [name, w] : p.plan.inputs.workers) ctx.workers[name] = w.path;
  ctx.inputs = p.inputs;
  ctx.results_dir = p.results_dir;
  ctx.interrupt_fd = g_interrupt_pipe[0];
  LeaseSettings lease = LeaseSettingsFromEnv();
  ctx.lease_s = lease.lease_s;
  ctx.lease_refresh_s = lease.refresh_s;
  auto run_id = db.BeginRun(p.sweep_id, ctx.owner, CollectProvenance().dump(), lease.lease_s,
                            p.plan_hash);
  if (!run_id.ok()) return StoreFailed(run_id.status());
  ctx.run_id = *run_id;
  // A label lookup that fails shows the key instead: the run goes on.
  auto label_of = [&db, &p](const std::string& key) {
    auto label = db.TrialLabel(p.sweep_id, key);
    return label.ok() ? *label : std::string();
  };
  ProgressPrinter printer(stdout, ProgressPrinter::IsSmartTerminal(stdout), facts.total,
                          facts.total - facts.pending, {}, facts.median_ok_s);
  printer.SetLabelLookup(label_of);
  printer.SetProcessesLeft(static_cast<int>(std::min<int64_t>(facts.processes_left, INT32_MAX)));
  printer.ShowWhere(on_slurm);
  auto result = executor.Run(db, ctx, printer);
  printer.Finish();
  int code = ReportOutcome(db, ctx, p.plan.spec, facts.total, on_slurm, result);
  // A detached SLURM run ends here: its jobs are judged by SLURM's state from now on.
  (void)db.EndRun(ctx.run_id, code);
  return code;
}

// Everything after the spec is parsed: plan -> recover -> choose executor -> begin run
// -> run -> end run, with the exit code of README's table.
int RunParsed(SpecParse parsed, const std::string& spec_path_abs, const RunOptions& o) {
  if (!parsed.ok()) {
    PrintErrors(parsed.errors, parsed.spec.path);
    return kExitUsage;
  }
  // --gpus / -j against what this process may use: a usage error before anything is
  // written.
  auto slots = MakeSlots(o.gpus, o.jobs);
  if (!slots.ok()) {
    std::fprintf(stderr, "orch: %s\n", slots.status().message().c_str());
    return kExitUsage;
  }
  int code = kExitOk;
  std::optional<PlannedSweep> p = PlanSweep(std::move(parsed), spec_path_abs, o, &code);
  if (!p) return code;
  ChosenExecutor chosen = ChooseExecutor(*p, o, *slots, &code);
  if (!chosen.executor) return code;
  bool on_slurm = chosen.slurm.has_value();
  if (!RecoverAndReset(*p->db, p->sweep_id, o)) return kExitInternal;
  auto facts = ReadSweepFacts(*p->db, p->sweep_id);
  if (!facts.ok()) return StoreFailed(facts.status());
  if (facts->pending == 0) {
    std::printf("sweep %s: all %d trials already have a terminal outcome; nothing to run "
                "(--retry-failed reruns failures)\n", p->plan.spec.name.c_str(), facts->total);
    return kExitOk;
  }
  std::printf("sweep %s: %d trials, %d to run, database %s\n", p->plan.spec.name.c_str(),
              facts->total, facts->pending, o.db.c_str());
  std::fflush(stdout);
  if (!InstallSignalHandlers()) {
    std::fprintf(stderr, "orch: cannot create the pipe for Ctrl-C handling: %s; nothing was "
                         "started (free descriptors, see ulimit -n, then run again)\n",
                 std::strerror(errno));
    return kExitInternal;
  }
  // sbatch --test-only: SLURM's own message for a bad partition before any claim.
  if (on_slurm && !PreflightSlurm(*chosen.slurm, p->results_dir)) return kExitUsage;
  return ExecuteRun(*p, *chosen.executor, on_slurm, std::move(*facts));
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
