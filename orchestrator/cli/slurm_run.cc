#include "orchestrator/cli/slurm_run.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "base/atomic_file.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/slurm/slurm_client.h"
#include "orchestrator/slurm/slurm_executor.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch::cli {
namespace {

// `orch status`: only problems; the summary line says what was ingested.
class QuietPrinter : public RunSink {
 public:
  void OnStart(const store::Claim&, const std::string&) override {}
  void OnSubmitted(const std::string&, int, int) override {}
  void OnTick(const std::vector<const RunningAttempt*>&) override {}
  void OnFinish(const store::Claim&, const std::string&, const store::AttemptResult&) override {}
  void OnNote(const std::string& line) override {
    if (line.rfind("took over", 0) == 0) return;
    std::fprintf(stderr, "orch: %s\n", ForTerminal(line).c_str());
  }
};


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

bool PreflightSlurm(const slurm::SlurmOptions& opts, const std::string& results_dir) {
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

void PrintWithSlurm(const store::Store& db, int64_t sweep_id, int still_queued) {
  std::printf("%d trial(s) are with SLURM; `orch status` shows what finished, "
              "`orch resume` reattaches, `orch cancel` cancels them\n", still_queued);
  PrintReplicatesLeft(db, sweep_id);
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
  RunContext ctx;  // no run of its own: it only observes
  ctx.sweep_id = sweep->id;
  ctx.sweep_name = sweep->name;
  ctx.results_dir = std::filesystem::absolute(db_path).parent_path().string();
  slurm::SlurmExecutor observer({slurm::SlurmOptions{}, /*submit=*/false, /*detach=*/false,
                                 /*once=*/true});
  QuietPrinter quiet;
  auto r = observer.Run(**db, ctx, quiet);
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
