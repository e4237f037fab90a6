// An old database for migration tests: a file at schema `version` (store/schema.h's
// migrations applied up to it, no further) holding the rows `rows_sql` inserts, written
// the way an older orch left it. Test-only: SQL here stands for the older orch's writes.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "store/schema.h"

namespace orch::testing {

inline ::testing::AssertionResult WriteOldDatabase(const std::string& path, int version,
                                                   const char* rows_sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return ::testing::AssertionFailure() << path << ": cannot open";
  }
  Status migrated = store::MigrateTo(db, path, version);
  char* error = nullptr;
  int rc = migrated.ok() ? sqlite3_exec(db, rows_sql, nullptr, nullptr, &error) : SQLITE_OK;
  std::string why = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (!migrated.ok()) {
    return ::testing::AssertionFailure() << "schema " << version << ": " << migrated.message();
  }
  if (rc != SQLITE_OK) return ::testing::AssertionFailure() << "rows: " << why;
  return ::testing::AssertionSuccess();
}

}  // namespace orch::testing
