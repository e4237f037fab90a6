// Study counts: for each sweep, study, membership (in the spec or stale), trial state and
// outcome, how many trials are there, the sum of their replicate targets and of their ok
// replicates (each trial's capped at its target). `orch status` and the run's closing
// summary read these few rows instead of joining every trial with its memberships and
// attempts (0.4 s at 100,000 trials; issue 18).
//
// The database keeps them itself: triggers on trials, memberships and attempts add each
// change to the bucket it leaves and the bucket it enters, inside the writing statement's
// transaction, so every write path (plan, claim, finish, interrupt, reset, migrations)
// keeps them exact and a crash cannot separate them from the rows they count.
// CheckStudyCounts compares them with a recount (Store::IntegrityCheck runs it).
// Internal to store/.
#pragma once

#include <string>

#include "base/status.h"

struct sqlite3;

namespace orch::store {

// Creates the table and its triggers (if absent) and fills it from the current rows.
// Schema migration 7.
Status CreateStudyCounts(sqlite3* db);

// The stored counts against a recount of the trials: an error naming the first bucket
// that differs.
Status CheckStudyCounts(sqlite3* db, const std::string& path);

}  // namespace orch::store
