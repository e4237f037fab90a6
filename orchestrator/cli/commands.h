// The `orch` subcommands, one file each (CLI11's subcommand-in-files pattern): every
// command registers its options on the app and runs with them. Commands print; the
// libraries they call return data. Exit codes are the ones documented in the README.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace orch::cli {

inline constexpr int kExitOk = 0;           // every trial has a terminal outcome
inline constexpr int kExitInternal = 1;     // internal error (I/O, database, ...)
inline constexpr int kExitUsage = 2;        // bad spec or usage
inline constexpr int kExitInterrupted = 130;

// --db PATH, else $ORCH_DB, else results/orch.db.
std::string DefaultDbPath();
void AddDbOption(CLI::App* cmd, std::string* db);

// Each returns the exit code through *exit_code when its subcommand runs.
void SetupPlan(CLI::App& app, int* exit_code);
void SetupRun(CLI::App& app, int* exit_code);  // run and resume
void SetupStatus(CLI::App& app, int* exit_code);
void SetupShow(CLI::App& app, int* exit_code);
void SetupExport(CLI::App& app, int* exit_code);
void SetupTokenize(CLI::App& app, int* exit_code);
void SetupReport(CLI::App& app, int* exit_code);
void SetupCompare(CLI::App& app, int* exit_code);
void SetupCancel(CLI::App& app, int* exit_code);

}  // namespace orch::cli
