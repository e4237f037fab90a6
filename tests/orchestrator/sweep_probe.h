// A look into a test sweep while or after orch runs it: its database (read-only, its own
// connection), how many attempts are running, and the fake worker's marker file (one
// "key attempt" line per worker that ran). Test-only.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "store/store.h"
#include "tests/orchestrator/must.h"

namespace orch::testing {

// Attempts started and not finished in sweep `sweep`, or 0 while the database does not
// exist yet (or cannot be read at this moment).
inline int RunningAttempts(const std::string& db_path, const std::string& sweep = "e2e") {
  if (!std::filesystem::exists(db_path)) return 0;
  auto db = store::Store::Open(db_path, store::OpenMode::kReadOnly);
  if (!db.ok()) return 0;
  auto found = Must((*db)->FindSweep(sweep));
  if (!found) return 0;
  int running = 0;
  for (const auto& c : Must((*db)->Counts(found->id))) running += c.running;
  return running;
}

// The database of the test sweep run in `dir` (results/orch.db), read-only; nullptr (and a
// test failure) when it cannot be opened.
inline std::unique_ptr<store::Store> OpenSweepDb(const std::string& dir) {
  auto db = store::Store::Open(dir + "/results/orch.db", store::OpenMode::kReadOnly);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

// How many workers ran per trial key, from the marker file the fake worker appends to.
inline std::map<std::string, int> MarkerCounts(const std::string& path) {
  std::map<std::string, int> n;
  std::ifstream in(path);
  std::string key;
  int attempt;
  while (in >> key >> attempt) ++n[key];
  return n;
}

}  // namespace orch::testing
