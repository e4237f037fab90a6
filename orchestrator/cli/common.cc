#include <cstdlib>

#include "orchestrator/cli/commands.h"

namespace orch::cli {

std::string DefaultDbPath() {
  const char* env = std::getenv("ORCH_DB");
  return env && *env ? env : "results/orch.db";
}

void AddDbOption(CLI::App* cmd, std::string* db) {
  *db = DefaultDbPath();
  cmd->add_option("--db", *db, "SQLite database (default: $ORCH_DB or results/orch.db)");
}

}  // namespace orch::cli
