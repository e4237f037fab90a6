// `orch cancel`: stops a sweep. Its SLURM jobs (all, or one study's) are cancelled with
// one scancel and recorded `interrupted` (the trials are pending again: `orch resume`
// runs them); every live `orch run` of the sweep, local or SLURM, is asked to stop
// through its run row, which it reads when it refreshes its lease (every 10 s). With
// --study, the live runs stop only that study's cells (store: held in their plans) and
// go on with the others.
#include <cstdio>

#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/slurm/slurm_executor.h"
#include "orchestrator/cli/terminal_text.h"
#include "store/store.h"

namespace orch::cli {
namespace {

struct CancelOptions {
  std::string db, sweep, study;
};

int RunCancel(const CancelOptions& o) {
  auto opened = store::Store::Open(o.db);
  if (!opened.ok()) {
    std::fprintf(stderr, "orch: %s\n", opened.status().message().c_str());
    return kExitUsage;
  }
  store::Store& db = **opened;
  auto sweep = SelectSweep(db, o.sweep);
  if (!sweep) return kExitUsage;
  if (!o.study.empty()) {
    bool known = false;
    auto studies = db.Studies(sweep->id);
    if (!studies.ok()) {
      std::fprintf(stderr, "orch: %s\n", studies.status().message().c_str());
      return kExitInternal;
    }
    for (const auto& s : *studies) known = known || s.id == o.study;
    if (!known) {
      std::fprintf(stderr, "orch: sweep %s has no study '%s'\n", ForTerminal(sweep->name).c_str(),
                   ForTerminal(o.study).c_str());
      return kExitUsage;
    }
  }
  // First the runs (so none submits the trials again), then the jobs. A study's cancel
  // stops only its cells: the runs go on with the other studies.
  auto asked = db.RequestCancel(sweep->id, o.study);
  if (!asked.ok()) {
    std::fprintf(stderr, "orch: %s\n", asked.status().message().c_str());
    return kExitInternal;
  }
  auto cancelled = slurm::CancelSweepJobs(db, sweep->id, o.study);
  if (!cancelled.ok()) {
    std::fprintf(stderr, "orch: cancelling the SLURM jobs: %s\n",
                 ForTerminal(cancelled.status().message()).c_str());
    return kExitInternal;
  }
  if (!o.study.empty()) {
    std::printf("sweep %s, study %s: %d SLURM job(s) cancelled and recorded interrupted; %d "
                "running orch(s) stop the study's trials and go on with the others; `orch "
                "resume` runs them again\n",
                ForTerminal(sweep->name).c_str(), ForTerminal(o.study).c_str(), *cancelled,
                *asked);
    return kExitOk;
  }
  std::printf("sweep %s: %d SLURM job(s) cancelled and recorded interrupted; %d running orch(s) "
              "asked to stop; `orch resume` runs the trials again\n",
              ForTerminal(sweep->name).c_str(), *cancelled, *asked);
  return kExitOk;
}

}  // namespace

void SetupCancel(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CancelOptions>();
  CLI::App* cmd = app.add_subcommand("cancel", "Cancel a sweep's SLURM jobs and stop its running orch");
  AddDbOption(cmd, &o->db);
  cmd->add_option("--sweep", o->sweep, "sweep name (needed when the database holds several)");
  cmd->add_option("--study", o->study, "only this study's SLURM jobs");
  cmd->callback([o, exit_code] { *exit_code = RunCancel(*o); });
}

}  // namespace orch::cli
