// Schema: the versioned table layout of the orch database and its forward migrations.
// Version N is reached by applying migrations 1..N in order, each in one transaction
// that also sets PRAGMA user_version. Internal to store/.
#pragma once

#include <string>

#include "base/status.h"

struct sqlite3;

namespace orch::store {

// The schema this orch writes: the number of migrations in schema.cc (a static_assert
// there keeps the two equal).
inline constexpr int kSchemaVersion = 7;
inline constexpr int kApplicationId = 0x6f726368;  // "orch"

// Brings the database to kSchemaVersion; refuses newer or foreign files.
Status MigrateToLatest(sqlite3* db, const std::string& path);

// Applies the migrations up to `version` only (tests build old databases with it).
Status MigrateTo(sqlite3* db, const std::string& path, int version);

// Checks version and application id without writing (read-only opens).
Status CheckReadable(sqlite3* db, const std::string& path);

}  // namespace orch::store
