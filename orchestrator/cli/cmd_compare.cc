// `orch compare`: two sweeps (in one database or two) joined on their cells'
// configuration; writes a markdown comparison and prints a one-line summary.
#include <cstdio>

#include "base/atomic_file.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/cli/terminal_text.h"
#include "report/compare.h"
#include "report/markdown_writer.h"

namespace orch::cli {
namespace {

struct CompareCliOptions {
  std::string db, sweep, against_db, against, out;
  std::vector<std::string> ignore;
  double min_effect = 0.02;
};

int RunCompare(const CompareCliOptions& o) {
  const std::string db2_path = o.against_db.empty() ? o.db : o.against_db;
  auto db1 = OpenForReading(o.db);
  if (!db1) return kExitUsage;
  // The other database is someone else's: read it without ever writing it (F14).
  std::unique_ptr<store::Store> db2;
  if (db2_path != o.db) {
    auto opened = store::Store::Open(db2_path, store::OpenMode::kNeverWrite);
    if (!opened.ok()) {
      std::fprintf(stderr, "orch: %s\n", opened.status().message().c_str());
      return kExitUsage;
    }
    db2 = std::move(opened).value();
  }
  const store::Store& second_db = db2 ? *db2 : *db1;
  auto first = SelectSweep(*db1, o.sweep);
  if (!first) return kExitUsage;
  auto second = SelectSweep(second_db, o.against);
  if (!second) return kExitUsage;
  if (db2_path == o.db && first->name == second->name) {
    std::fprintf(stderr,
                 "orch: compare: both sides are sweep '%s' of %s: name another with --against "
                 "or --against-db\n",
                 ForTerminal(first->name).c_str(), ForTerminal(o.db).c_str());
    return kExitUsage;
  }
  auto snap1 = report::LoadSnapshot(*db1, first->name);
  auto snap2 = report::LoadSnapshot(second_db, second->name);
  if (!snap1.ok() || !snap2.ok()) {
    std::fprintf(stderr, "orch: compare: %s\n",
                 ForTerminal((snap1.ok() ? snap2.status() : snap1.status()).message()).c_str());
    return kExitInternal;
  }
  report::CompareOptions opts;
  // Execution-policy keys are always dropped (report::ExecutionPolicyKeys, checked
  // against the schema by a test); the user may add axes.
  opts.ignored_keys = o.ignore;
  opts.contrast.min_effect = o.min_effect;
  const std::string name1 = o.db + ": " + first->name, name2 = db2_path + ": " + second->name;
  auto cmp = report::CompareSweeps(*snap1, name1, *snap2, name2, opts);
  if (!cmp.ok()) {
    std::fprintf(stderr, "orch: compare: %s\n", ForTerminal(cmp.status().message()).c_str());
    return kExitUsage;
  }
  Status s = WriteFileAtomically(o.out, report::RenderComparisonMarkdown(*cmp));
  if (!s.ok()) {
    std::fprintf(stderr, "orch: compare: %s\n", ForTerminal(s.message()).c_str());
    return kExitInternal;
  }
  std::printf(
      "%s vs %s: %zu joined cells (slower %d, faster %d, no measurable difference %d, not "
      "compared %d); outcomes differ in %d; only in the first %zu, only in the second %zu\n"
      "comparison written to %s\n",
      ForTerminal(name1).c_str(), ForTerminal(name2).c_str(), cmp->joined.size(), cmp->slower,
      cmp->faster, cmp->no_difference, cmp->not_compared, cmp->differing_outcomes,
      cmp->only_first.size(), cmp->only_second.size(), ForTerminal(o.out).c_str());
  return kExitOk;
}

}  // namespace

void SetupCompare(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CompareCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare two sweeps cell by cell (TPOT ratio with CI, PPL change, outcomes)");
  AddDbOption(cmd, &o->db);
  cmd->add_option("--sweep", o->sweep, "the first sweep (needed when --db holds several)");
  cmd->add_option("--against-db", o->against_db,
                  "database of the second sweep (default: the same as --db)");
  cmd->add_option("--against", o->against,
                  "the second sweep (needed when its database holds several)");
  cmd->add_option("--out", o->out, "markdown file to write (e.g. compare.md)")->required();
  cmd->add_option("--ignore", o->ignore,
                  "a config key to drop before joining cells, e.g. worker (repeatable; "
                  "timeout, heartbeat_timeout and retries are always dropped)");
  cmd->add_option("--min-effect", o->min_effect,
                  "relative TPOT change a faster/slower verdict needs besides a 95% CI "
                  "excluding 1 (default 0.02 = 2%)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->callback([o, exit_code] { *exit_code = RunCompare(*o); });
}

}  // namespace orch::cli
