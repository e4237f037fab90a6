#include <cstdio>

#include "base/outcome.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/provenance.h"
#include "orchestrator/terminal_text.h"

namespace orch::cli {
namespace {

struct StatusOptions {
  std::string db, sweep;
  bool json = false;
};

int RunStatus(const StatusOptions& o) {
  auto db = OpenForReading(o.db);
  if (!db) return kExitUsage;
  auto sweep = SelectSweep(*db, o.sweep);
  if (!sweep) return kExitUsage;
  auto counts = db->Counts(sweep->id);
  auto studies = db->Studies(sweep->id);
  if (o.json) {
    nlohmann::json out = {{"sweep", sweep->name}, {"studies", nlohmann::json::array()}};
    for (const auto& c : counts) {
      nlohmann::json done = nlohmann::json::object();
      for (const auto& [k, v] : c.done) done[k] = v;
      out["studies"].push_back({{"id", c.study_id}, {"pending", c.pending},
                                {"running", c.running}, {"done", done}, {"stale", c.stale}});
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  std::printf("sweep %s (spec %s, updated %s)\n", ForTerminal(sweep->name).c_str(),
              ForTerminal(sweep->spec_path).c_str(), ForTerminal(sweep->updated_utc).c_str());
  std::printf("%-10s %8s %8s", "study", "pending", "running");
  for (OutcomeClass c : AllOutcomes()) std::printf(" %11s", std::string(OutcomeName(c)).c_str());
  std::printf(" %6s\n", "stale");
  int pending = 0, running = 0, stale = 0;
  for (const auto& c : counts) {
    std::printf("%-10s %8d %8d", ForTerminal(c.study_id).c_str(), c.pending, c.running);
    for (OutcomeClass oc : AllOutcomes()) {
      auto it = c.done.find(std::string(OutcomeName(oc)));
      std::printf(" %11d", it == c.done.end() ? 0 : it->second);
    }
    std::printf(" %6d\n", c.stale);
    pending += c.pending;
    running += c.running;
    stale += c.stale;
  }
  if (stale) std::printf("%d stale cell(s): results kept, no longer in the spec\n", stale);
  int orphaned = 0;
  for (const auto& a : db->UnfinishedAttempts()) orphaned += OwnerAlive(a.owner) ? 0 : 1;
  if (orphaned) {
    std::printf("%d attempt(s) shown as running belong to an orch that is gone; the next "
                "`orch run` or `orch resume` marks them interrupted and runs them again\n",
                orphaned);
  }
  std::printf(pending + running == 0 ? "complete\n" : "%d pending, %d running\n", pending, running);
  return kExitOk;
}

}  // namespace

void SetupStatus(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand("status", "Where a sweep stands: per study, pending / running / done by outcome");
  AddDbOption(cmd, &o->db);
  cmd->add_option("--sweep", o->sweep, "sweep name (needed when the database holds several)");
  cmd->add_flag("--json", o->json, "print one JSON object");
  cmd->callback([o, exit_code] { *exit_code = RunStatus(*o); });
}

}  // namespace orch::cli
