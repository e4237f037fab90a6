// orch: the experiment orchestrator's entry point. Everything happens in the
// subcommands (orchestrator/cli/); this only wires them to CLI11.
#include <CLI/CLI.hpp>

#include "orchestrator/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"orch: reproducible experiment sweeps for LLM inference research"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "orch 0.1.0");
  int exit_code = orch::cli::kExitOk;
  orch::cli::SetupPlan(app, &exit_code);
  orch::cli::SetupRun(app, &exit_code);
  orch::cli::SetupStatus(app, &exit_code);
  orch::cli::SetupShow(app, &exit_code);
  orch::cli::SetupExport(app, &exit_code);
  orch::cli::SetupTokenize(app, &exit_code);
  orch::cli::SetupReport(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : orch::cli::kExitUsage;
  }
  return exit_code;
}
