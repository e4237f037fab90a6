// A look into a test sweep's database while orch runs: how many attempts are running.
// Test-only; reads with its own read-only connection.
#pragma once

#include <filesystem>
#include <string>

#include "store/store.h"

namespace orch::testing {

// Attempts started and not finished in sweep `sweep`, or 0 while the database does not
// exist yet (or cannot be read at this moment).
inline int RunningAttempts(const std::string& db_path, const std::string& sweep = "e2e") {
  if (!std::filesystem::exists(db_path)) return 0;
  auto db = store::Store::Open(db_path, store::OpenMode::kReadOnly);
  if (!db.ok()) return 0;
  auto found = (*db)->FindSweep(sweep);
  if (!found) return 0;
  int running = 0;
  for (const auto& c : (*db)->Counts(found->id)) running += c.running;
  return running;
}

}  // namespace orch::testing
