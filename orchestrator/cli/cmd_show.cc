#include <algorithm>
#include <cstdio>

#include "orchestrator/attempt/attempt_files.h"
#include "orchestrator/attempt/classify.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch::cli {
namespace {

struct ShowOptions {
  std::string db, key;
};

// A stored JSON text indented for reading; the text itself when it is not JSON.
std::string PrettyJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return text;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

int RunShow(const ShowOptions& o) {
  auto db = OpenForReading(o.db);
  if (!db) return kExitUsage;
  auto trial = db->FindTrial(o.key);
  if (!trial.ok()) {
    std::fprintf(stderr, "orch: %s\n", trial.status().message().c_str());
    return kExitUsage;
  }
  // Everything below comes from the database, and much of it from workers and specs:
  // printed through ForTerminal (T) so that no stored byte acts on the terminal.
  auto T = [](const std::string& s) { return ForTerminal(s); };
  std::printf("trial %s\n", T(trial->key).c_str());
  std::printf("study: %s%s\n", T(trial->study_id).c_str(), trial->in_spec ? "" : " (stale)");
  std::printf("state: %s", store::TrialStateName(trial->state).c_str());
  if (!trial->outcome.empty()) std::printf(", outcome %s", T(trial->outcome).c_str());
  if (!trial->reason.empty()) std::printf(": %s", T(trial->reason).c_str());
  std::printf("\nreplicates: %d/%d ok (each a fresh worker process)\n",
              std::min(trial->ok_replicates, trial->replicates), trial->replicates);
  std::printf("config: %s\n", ForTerminalLines(PrettyJson(trial->config_json)).c_str());
  auto attempts = db->Attempts(trial->key);
  if (!attempts.ok()) {
    std::fprintf(stderr, "orch: %s\n", attempts.status().message().c_str());
    return kExitInternal;
  }
  std::string last_log;
  for (const auto& a : *attempts) {
    std::printf("\nattempt %d (replicate %d) on %s (%s pid %lld, slot %s), started %s\n",
                a.number, a.replicate, T(a.owner.host).c_str(), "orch",
                static_cast<long long>(a.owner.pid), T(a.slot).c_str(), T(a.started_utc).c_str());
    if (!a.finished) {
      std::printf("  running\n");
    } else {
      std::printf("  outcome %s after %.2f s", T(a.outcome).c_str(), a.duration_s);
      if (a.exit_code) std::printf(", exit %d", *a.exit_code);
      if (a.signal) std::printf(", signal %s", SignalName(*a.signal).c_str());
      std::printf("\n");
      if (!a.reason.empty()) std::printf("  reason: %s\n", T(a.reason).c_str());
    }
    // A SLURM attempt records no log path: its worker.log is in the attempt directory.
    std::string log = a.log_path;
    if (log.empty() && !a.attempt_dir.empty() && AttemptFileExists(WorkerLogPath(a.attempt_dir))) {
      log = WorkerLogPath(a.attempt_dir);
    }
    if (!log.empty()) std::printf("  log: %s\n", T(log).c_str());
    auto metrics = db->Metrics(a.id);
    if (!metrics.ok()) {
      std::fprintf(stderr, "orch: %s\n", metrics.status().message().c_str());
      return kExitInternal;
    }
    for (const auto& [k, v] : *metrics) std::printf("  %-24s %.6g\n", T(k).c_str(), v);
    if (a.warnings_json != "[]") std::printf("  warnings: %s\n", T(a.warnings_json).c_str());
    if (a.details_json != "{}") std::printf("  details: %s\n", T(a.details_json).c_str());
    if (!log.empty()) last_log = log;
  }
  if (!last_log.empty()) {
    std::string tail = ReadTail(last_log, 20);
    if (!tail.empty()) {
      std::printf("\nlog tail (%s):\n%s", T(last_log).c_str(), ForTerminalLines(tail).c_str());
    }
  }
  return kExitOk;
}

}  // namespace

void SetupShow(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ShowOptions>();
  CLI::App* cmd = app.add_subcommand("show", "One trial: config, attempts, metrics, log tail");
  cmd->add_option("key", o->key, "trial key or a unique prefix of it")->required();
  AddDbOption(cmd, &o->db);
  cmd->callback([o, exit_code] { *exit_code = RunShow(*o); });
}

}  // namespace orch::cli
