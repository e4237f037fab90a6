#include "orchestrator/cli/slurm_run.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "base/atomic_file.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/attempt/ownership.h"
#include "orchestrator/provenance.h"
#include "orchestrator/slurm/slurm_client.h"
#include "orchestrator/slurm/slurm_executor.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch::cli {
namespace {

class SlurmPrinter : public slurm::SlurmProgress {
 public:
  SlurmPrinter(int total, int done, std::map<std::string, std::string> labels)
      : total_(total), done_(done), labels_(std::move(labels)) {}
  void OnSubmitted(const std::string& array_job, int trials, int tasks) override {
    std::printf("submitted SLURM job array %s: %d trial(s) in %d task(s)\n", array_job.c_str(),
                trials, tasks);
    std::fflush(stdout);
  }
  void OnFinished(const std::string& key, const std::string& job_id, const std::string& outcome,
                  const std::string& reason) override {
    if (outcome != "interrupted") ++done_;
    auto it = labels_.find(key);
    std::string label = it == labels_.end() ? key.substr(0, 12) : it->second;
    std::printf("[%d/%d] %s: %s%s (job %s)\n", done_, total_, ForTerminal(label).c_str(),
                outcome.c_str(), reason.empty() ? "" : (" - " + ForTerminal(reason)).c_str(),
                job_id.c_str());
    std::fflush(stdout);
  }
  void OnNote(const std::string& line) override {
    std::fprintf(stderr, "orch: %s\n", ForTerminal(line).c_str());
  }

 private:
  int total_, done_;
  std::map<std::string, std::string> labels_;
};

// `orch status`: only problems; the summary line says what was ingested.
class QuietPrinter : public slurm::SlurmProgress {
 public:
  void OnSubmitted(const std::string&, int, int) override {}
  void OnFinished(const std::string&, const std::string&, const std::string&,
                  const std::string&) override {}
  void OnNote(const std::string& line) override {
    if (line.rfind("took over", 0) == 0) return;
    std::fprintf(stderr, "orch: %s\n", ForTerminal(line).c_str());
  }
};

// sbatch --test-only with the run's options: SLURM's own message for a bad partition,
// account or QOS before any trial is claimed.
bool Preflight(const slurm::SlurmOptions& opts, const std::string& results_dir) {
  std::string dir = slurm::SlurmDir(results_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string script = dir + "/preflight.sh";
  if (Status s = WriteFileAtomically(script, "#!/bin/bash\ntrue\n"); !s.ok()) {
    std::fprintf(stderr, "orch: %s\n", s.message().c_str());
    return false;
  }
  auto args = slurm::SbatchArgs(opts, 1, "orch-preflight", "/dev/null", slurm::TaskTimeLimit(opts, {60}));
  slurm::SlurmClient client;
  auto r = client.Submit(args, script, /*test_only=*/true);
  if (!r.ok()) {
    // SLURM's own message, line by line (each escaped for the terminal).
    std::fprintf(stderr, "orch: sbatch refused the jobs:\n");
    std::string msg = r.status().message();
    for (size_t at = 0; at < msg.size();) {
      size_t nl = msg.find('\n', at);
      std::string line = msg.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
      std::fprintf(stderr, "  %s\n", ForTerminal(line).c_str());
      at = nl == std::string::npos ? msg.size() : nl + 1;
    }
    std::fprintf(stderr, "orch: nothing was claimed or submitted\n");
    return false;
  }
  return true;
}

// L6: the replicates of one trial run one after another (design.md, "Replicates"), so
// a detached run has submitted one replicate of each trial; the next ones are submitted
// by an orch that polls (`orch resume`), not by `orch status`.
void PrintReplicatesLeft(const store::Store& db, int64_t sweep_id) {
  int trials = 0, left = 0;
  std::set<std::string> seen;  // a trial two studies share is listed twice
  auto all = db.Trials(sweep_id);
  if (!all.ok()) return;  // a read error: orch status reports it
  for (const auto& t : *all) {
    if (t.state == store::TrialState::kDone || t.replicates <= 1 || !seen.insert(t.key).second) continue;
    ++trials;
    left += std::max(0, t.replicates - t.ok_replicates - 1);
  }
  if (left == 0) return;
  std::printf("%d more replicate(s) of %d trial(s) are not submitted yet: a trial's "
              "replicates run one after another; `orch resume` submits each as the one "
              "before it finishes (`orch status` only records)\n", left, trials);
}

}  // namespace

void AddSlurmOptions(CLI::App* cmd, SlurmCli* c) {
  const std::vector<std::pair<std::string, std::string>> kFlags = {
      {"partition", "SLURM partition (-p)"},
      {"gres", "SLURM --gres per array task, e.g. gpu:a100:1"},
      {"slurm-gpus", "GPUs per array task (--gres=gpu:N)"},
      {"cpus-per-task", "SLURM --cpus-per-task"},
      {"mem", "SLURM --mem per array task, e.g. 16G"},
      {"time", "SLURM --time per array task (default: the trials' timeouts + time_margin)"},
      {"account", "SLURM --account"},
      {"qos", "SLURM --qos"},
      {"constraint", "SLURM --constraint"},
      {"array-throttle", "at most N tasks of an array at once (--array=...%N)"},
      {"trials-per-task", "trials one array task runs one after another"},
      {"max-array-size", "array tasks per sbatch (below SLURM's MaxArraySize)"},
      {"poll-interval", "seconds between squeue+sacct polls (default 30)"},
      {"time-margin", "added to the trials' timeouts for --time (default 60 s)"},
  };
  for (const auto& [flag, help] : kFlags) {
    std::string key = flag == "slurm-gpus" ? "gpus" : flag;
    for (char& ch : key) {
      if (ch == '-') ch = '_';
    }
    cmd->add_option_function<std::string>(
        "--" + flag, [c, key](const std::string& v) { c->values[key] = v; }, help);
  }
  cmd->add_option("--sbatch-arg", c->sbatch_args, "extra sbatch argument (repeatable)");
  cmd->add_flag("--detach", c->detach,
                "with --executor slurm: submit and return; `orch status`/`orch resume` reattach");
}

bool ResolveSlurmOptions(const Spec& spec, const SlurmCli& cli, slurm::SlurmOptions* out) {
  auto errors = slurm::ApplySlurmBlock(spec, out);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  bool ok = errors.empty();
  for (const auto& [key, value] : cli.values) {
    std::string why = slurm::ApplySlurmOption(key, value, out);
    if (!why.empty()) {
      std::string flag = key == "gpus" ? "slurm-gpus" : key;
      for (char& ch : flag) {
        if (ch == '_') ch = '-';
      }
      std::fprintf(stderr, "orch: --%s: %s\n", flag.c_str(), why.c_str());
      ok = false;
    }
  }
  for (const auto& a : cli.sbatch_args) out->sbatch_args.push_back(a);
  return ok;
}

int RunSlurm(store::Store& db, const SlurmRunRequest& req) {
  if (!Preflight(req.options, req.results_dir)) return kExitUsage;
  store::Owner owner = SelfRunOwner();
  LeaseSettings lease = LeaseSettingsFromEnv();
  auto run_id = db.BeginRun(req.sweep_id, owner, CollectProvenance().dump(), lease.lease_s,
                            req.plan_hash.empty() ? std::nullopt
                                                  : std::optional<std::string>(req.plan_hash));
  if (!run_id.ok()) {
    std::fprintf(stderr, "orch: %s\n", run_id.status().message().c_str());
    return kExitInternal;
  }
  slurm::ExecutorOptions eo;
  eo.sweep_id = req.sweep_id;
  eo.sweep_name = req.sweep_name;
  eo.run_id = *run_id;
  eo.owner = owner;
  eo.worker = req.worker;
  eo.workers = req.workers;
  eo.inputs = req.inputs;
  eo.results_dir = req.results_dir;
  eo.slurm = req.options;
  eo.interrupt_fd = req.interrupt_fd;
  eo.lease_s = lease.lease_s;
  eo.lease_refresh_s = lease.refresh_s;
  eo.detach = req.detach;
  auto unfinished = db.UnfinishedCount(req.sweep_id);
  if (!unfinished.ok()) {
    std::fprintf(stderr, "orch: %s\n", unfinished.status().message().c_str());
    (void)db.EndRun(*run_id, kExitInternal);
    return kExitInternal;
  }
  int done = req.total - *unfinished;
  SlurmPrinter printer(req.total, done, req.labels);
  auto r = slurm::RunOnSlurm(db, eo, printer);
  int code = kExitOk;
  if (!r.ok()) {
    std::fprintf(stderr, "orch: %s\n", ForTerminal(r.status().message()).c_str());
    code = r.status().message().rfind("sbatch refused", 0) == 0 ? kExitUsage : kExitInternal;
  }
  if (r.ok()) {
    if (r->cancelled) {
      std::fprintf(stderr, "orch: the sweep's SLURM jobs were cancelled; `orch resume` submits "
                   "the trials again\n");
      code = kExitInterrupted;
    } else if (r->interrupted || req.detach) {
      std::printf("%d trial(s) are with SLURM; `orch status` shows what finished, "
                  "`orch resume` reattaches, `orch cancel` cancels them\n", r->still_queued);
      PrintReplicatesLeft(db, req.sweep_id);
      code = r->interrupted ? kExitInterrupted : kExitOk;
    } else {
      // The run's own plan: an edited spec's cells are another run's (F6), a cancelled
      // study's are left for `orch resume` (F11).
      auto left = db.RunUnfinishedCount(*run_id);
      auto counts = db.Counts(req.sweep_id);
      int failed = 0;
      for (const auto& c : counts.ok() ? *counts : std::vector<store::StudyCounts>()) {
        for (const auto& [outcome, n] : c.done) failed += outcome == "ok" ? 0 : n;
      }
      if (!left.ok() || !counts.ok()) {
        std::fprintf(stderr, "orch: %s\n",
                     (left.ok() ? counts.status() : left.status()).message().c_str());
        code = kExitInternal;
      } else if (left->unfinished > 0) {
        std::fprintf(stderr, "orch: %lld trial(s) are still running under another orch on "
                     "this database\n", static_cast<long long>(left->unfinished));
        code = kExitInternal;
      } else if (left->cancelled > 0) {
        std::fprintf(stderr, "orch: %lld trial(s) of cancelled studies did not run; `orch "
                     "resume` runs them\n", static_cast<long long>(left->cancelled));
        code = kExitInterrupted;
      } else {
        std::printf("sweep %s complete: %d trials, %d failed (see `orch status`)\n",
                    req.sweep_name.c_str(), req.total, failed);
      }
    }
  }
  // A detached run ends here: its jobs are judged by SLURM's state from now on.
  (void)db.EndRun(*run_id, code);
  return code;
}

void ReattachForStatus(const std::string& db_path, const std::string& sweep_name) {
  auto opened = store::Store::Open(db_path, store::OpenMode::kReadOnly);
  if (!opened.ok()) return;
  std::optional<store::SweepRecord> sweep;
  auto sweeps = (*opened)->ListSweeps();
  if (!sweeps.ok()) return;  // status reads the same database next and reports it
  for (const auto& s : *sweeps) {
    if (sweep_name.empty() ? sweeps->size() == 1 : s.name == sweep_name) sweep = s;
  }
  if (!sweep) return;
  auto jobs = slurm::UnfinishedJobs(**opened, sweep->id);
  if (!jobs.ok() || jobs->empty()) return;
  opened->reset();
  auto db = store::Store::Open(db_path);
  if (!db.ok()) {
    std::fprintf(stderr, "orch: cannot update %s from SLURM: %s\n", db_path.c_str(),
                 db.status().message().c_str());
    return;
  }
  slurm::ExecutorOptions eo;
  eo.sweep_id = sweep->id;
  eo.sweep_name = sweep->name;
  eo.results_dir = std::filesystem::absolute(db_path).parent_path().string();
  eo.submit = false;
  eo.once = true;
  QuietPrinter quiet;
  auto r = slurm::RunOnSlurm(**db, eo, quiet);
  if (!r.ok()) {
    std::fprintf(stderr, "orch: reattaching to SLURM: %s\n", ForTerminal(r.status().message()).c_str());
    return;
  }
  if (r->adopted + r->recorded + r->requeued > 0) {
    std::fprintf(stderr, "orch: from SLURM: %d attempt(s) finished meanwhile were recorded, "
                 "%d will run again (`orch resume`), %d still queued or running\n",
                 r->recorded, r->requeued, r->still_queued);
  }
}

}  // namespace orch::cli
