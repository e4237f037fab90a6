#include <cstdio>

#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/cli/terminal_text.h"
#include "report/report.h"

namespace orch::cli {
namespace {

struct ReportCliOptions {
  std::string db, sweep, out;
  double min_effect = 0.02;
  std::vector<std::string> map_axes;
  std::string pair_key = "worker", pair_reference = "reference";
};

int RunReport(const ReportCliOptions& o) {
  auto db = OpenForReading(o.db);
  if (!db) return kExitUsage;
  auto sweep = SelectSweep(*db, o.sweep);  // a wrong or missing --sweep is a usage error
  if (!sweep) return kExitUsage;
  report::ReportOptions opts;
  opts.sweep_name = sweep->name;
  opts.out_dir = o.out;
  opts.min_effect = o.min_effect;
  if (!o.map_axes.empty()) {
    if (o.map_axes.size() != 2 || o.map_axes[0].empty() || o.map_axes[1].empty() ||
        o.map_axes[0] == o.map_axes[1]) {
      std::fprintf(stderr, "orch: report: --map-axes takes two different config keys, "
                           "ROW,COLUMN (e.g. quant,window)\n");
      return kExitUsage;
    }
    opts.map_axes = {o.map_axes[0], o.map_axes[1]};
    for (const std::string& axis : o.map_axes) {
      bool known = false;
      auto trials = db->Trials(sweep->id);
      if (!trials.ok()) {
        std::fprintf(stderr, "orch: %s\n", trials.status().message().c_str());
        return kExitInternal;
      }
      for (const store::TrialRecord& t : *trials) {
        auto config = nlohmann::json::parse(t.config_json, nullptr, false);
        known = known || (config.is_object() && config.contains(axis));
      }
      if (!known) {
        std::fprintf(stderr, "orch: report: --map-axes: no cell of sweep '%s' has the config key '%s'\n",
                     ForTerminal(sweep->name).c_str(), ForTerminal(axis).c_str());
        return kExitUsage;
      }
    }
  }
  opts.pair_key = o.pair_key;
  opts.pair_reference = o.pair_reference;
  opts.free_memory = false;  // the process exits right after (ReportOptions)
  Status s = report::WriteReport(*db, opts);
  if (!s.ok()) {
    std::fprintf(stderr, "orch: report: %s\n", s.message().c_str());
    return kExitInternal;
  }
  std::printf("report written to %s (report.md, report.html, tables.tex, snippet.tex, snippet.md, figures/, provenance.json)\n",
              o.out.c_str());
  return kExitOk;
}

}  // namespace

void SetupReport(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ReportCliOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Write the sweep's report: markdown, a self-contained HTML page, LaTeX tables, snippet, figures");
  AddDbOption(cmd, &o->db);
  cmd->add_option("--sweep", o->sweep, "sweep name (needed when the database holds several)");
  cmd->add_option("--out", o->out, "output directory")->required();
  cmd->add_option("--min-effect", o->min_effect,
                  "relative TPOT change a faster/slower verdict needs besides a 95% CI "
                  "excluding 1 (default 0.02 = 2%)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--map-axes", o->map_axes,
                  "config keys of the failure maps' rows and columns, ROW,COLUMN (default: "
                  "quant,window, else the fields that vary)")
      ->delimiter(',');
  cmd->add_option("--pair-key", o->pair_key,
                  "stack comparison: pair cells that differ only in this config key "
                  "(default worker; empty: none)");
  cmd->add_option("--pair-reference", o->pair_reference,
                  "the value of --pair-key that is the denominator of each ratio (default "
                  "reference; else the key's first value)");
  cmd->callback([o, exit_code] { *exit_code = RunReport(*o); });
}

}  // namespace orch::cli
