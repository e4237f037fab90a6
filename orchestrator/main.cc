// orch: the experiment orchestrator's entry point. Everything happens in the
// subcommands (orchestrator/cli/); this only wires them to CLI11, and is the last line
// of defence: whatever escapes a command ends in a message and exit 1, never abort().
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>

#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/terminal_text.h"

namespace {

int Main(int argc, char** argv) {
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
  orch::cli::SetupCompare(app, &exit_code);
  orch::cli::SetupCancel(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : orch::cli::kExitUsage;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // An inherited SIG_IGN for SIGCHLD (kept across exec) would make the kernel reap our
  // workers itself: waitid would fail with ECHILD and no exit status would be seen.
  signal(SIGCHLD, SIG_DFL);
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "orch: internal error: %s\n", orch::ForTerminal(e.what()).c_str());
  } catch (...) {
    std::fprintf(stderr, "orch: internal error: unknown exception\n");
  }
  return orch::cli::kExitInternal;
}
