#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/outcome.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/slurm_run.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/attempt/ownership.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch::cli {
namespace {

struct StatusOptions {
  std::string db, sweep;
  bool json = false;
};

// One orch run that owns running attempts, with its lease age.
struct OwnerLine {
  int64_t run_id = 0;
  std::string host;
  int64_t pid = 0;
  int attempts = 0;
  std::optional<long long> lease_age_s;  // none: a run of an orch without leases
  bool gone = false;
};

StatusOr<std::vector<OwnerLine>> Owners(const store::Store& db) {
  std::map<int64_t, int> per_run;
  auto unfinished = db.UnfinishedAttempts();
  if (!unfinished.ok()) return unfinished.status();
  for (const auto& a : *unfinished) ++per_run[a.run_id];
  LocalIdentity me = ThisProcessIdentity();
  double now = UnixNow();
  std::vector<OwnerLine> lines;
  for (const auto& [run_id, n] : per_run) {
    auto found = db.FindRun(run_id);
    if (!found.ok()) return found.status();
    const std::optional<store::RunRecord>& run = *found;
    if (!run) continue;
    OwnerLine w{run_id, run->owner.host, run->owner.pid, n, std::nullopt, false};
    if (run->heartbeat_s) w.lease_age_s = static_cast<long long>(now - *run->heartbeat_s);
    w.gone = JudgeOwner(*run, me, now).gone;
    lines.push_back(std::move(w));
  }
  return lines;
}

// `orch status --json`: the counts and owners as data.
void PrintStatusJson(const store::SweepRecord& sweep, const std::vector<store::StudyCounts>& counts,
                     const std::vector<OwnerLine>& owners) {
  nlohmann::json out = {{"sweep", sweep.name}, {"studies", nlohmann::json::array()}};
  for (const auto& c : counts) {
    nlohmann::json done = nlohmann::json::object();
    for (const auto& [k, v] : c.done) done[k] = v;
    out["studies"].push_back({{"id", c.study_id}, {"pending", c.pending},
                              {"running", c.running}, {"done", done}, {"stale", c.stale},
                              {"replicates_ok", c.replicates_ok},
                              {"replicates", c.replicates_total}});
  }
  out["owners"] = nlohmann::json::array();
  for (const auto& w : owners) {
    nlohmann::json j = {{"run", w.run_id}, {"host", w.host}, {"pid", w.pid},
                        {"attempts", w.attempts}, {"gone", w.gone}};
    j["lease_age_s"] = w.lease_age_s ? nlohmann::json(*w.lease_age_s) : nlohmann::json();
    out["owners"].push_back(j);
  }
  std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// The table of studies by state and outcome, stale cells and replicate progress.
// Returns pending + running.
int PrintCounts(const store::SweepRecord& sweep, const std::vector<store::StudyCounts>& counts) {
  std::printf("sweep %s (spec %s, updated %s)\n", ForTerminal(sweep.name).c_str(),
              ForTerminal(sweep.spec_path).c_str(), ForTerminal(sweep.updated_utc).c_str());
  std::printf("%-10s %8s %8s", "study", "pending", "running");
  for (OutcomeClass c : AllOutcomes()) std::printf(" %11s", std::string(OutcomeName(c)).c_str());
  std::printf(" %6s\n", "stale");
  int unfinished = 0, stale = 0;
  int64_t replicates_ok = 0, replicates_total = 0, cells = 0;
  for (const auto& c : counts) {
    std::printf("%-10s %8d %8d", ForTerminal(c.study_id).c_str(), c.pending, c.running);
    for (OutcomeClass oc : AllOutcomes()) {
      auto it = c.done.find(std::string(OutcomeName(oc)));
      std::printf(" %11d", it == c.done.end() ? 0 : it->second);
    }
    std::printf(" %6d\n", c.stale);
    unfinished += c.pending + c.running;
    stale += c.stale;
    replicates_ok += c.replicates_ok;
    replicates_total += c.replicates_total;
    cells += c.pending + c.running;
    for (const auto& [outcome, n] : c.done) cells += n;
  }
  if (stale) std::printf("%d stale cell(s): results kept, no longer in the spec\n", stale);
  // Replicate progress, where some cell needs more than one (fresh worker processes).
  if (replicates_total > cells) {
    std::printf("replicates: %lld/%lld ok (fresh worker processes, claim order %s)\n",
                static_cast<long long>(replicates_ok), static_cast<long long>(replicates_total),
                ForTerminal(sweep.claim_order).c_str());
  }
  return unfinished;
}

// Who runs what: each run with running attempts, its lease, and whether it is gone.
void PrintOwners(const std::vector<OwnerLine>& owners) {
  int orphaned = 0;
  if (!owners.empty()) std::printf("owners of running attempts:\n");
  for (const auto& w : owners) {
    if (w.gone) orphaned += w.attempts;
    std::string lease = w.lease_age_s ? "lease renewed " + std::to_string(*w.lease_age_s) + " s ago"
                                      : "no lease (older orch)";
    std::printf("  run %lld  host %s  pid %lld  %d attempt(s)  %s%s\n",
                static_cast<long long>(w.run_id), ForTerminal(w.host).c_str(),
                static_cast<long long>(w.pid), w.attempts, lease.c_str(), w.gone ? "  (gone)" : "");
  }
  if (orphaned) {
    std::printf("%d attempt(s) shown as running belong to an orch that is gone; the next "
                "`orch run` or `orch resume` marks them interrupted and runs them again\n",
                orphaned);
  }
}

int RunStatus(const StatusOptions& o) {
  // Trials with SLURM whose orch is gone (--detach, killed): ingest what finished.
  ReattachForStatus(o.db, o.sweep);
  auto db = OpenForReading(o.db);
  if (!db) return kExitUsage;
  auto sweep = SelectSweep(*db, o.sweep);
  if (!sweep) return kExitUsage;
  auto counted = db->Counts(sweep->id);
  auto found_owners = Owners(*db);
  if (!counted.ok() || !found_owners.ok()) {
    std::fprintf(stderr, "orch: %s\n", (counted.ok() ? found_owners.status() : counted.status())
                                            .message().c_str());
    return kExitInternal;
  }
  if (o.json) {
    PrintStatusJson(*sweep, *counted, *found_owners);
    return kExitOk;
  }
  int unfinished = PrintCounts(*sweep, *counted);
  PrintOwners(*found_owners);
  // The closing line: "complete", or what is left (running counted in pending's line).
  int running = 0;
  for (const auto& c : *counted) running += c.running;
  std::printf(unfinished == 0 ? "complete\n" : "%d pending, %d running\n", unfinished - running,
              running);
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
