// A fixture sweep for the report tests, written through the Store's public write API:
// three studies whose cells end in every outcome class the report distinguishes (ok,
// nan, oom, cuda_error, blocked, crash, error, timeout, hung), with repeats, a retried
// transient failure, methodology warnings, a profile trial and hostile strings in spec
// text and error messages. Per-token samples come from a fixed-seed generator written
// here (no std distributions, whose output differs across standard libraries).
#pragma once

#include <string>

#include "base/status.h"

namespace orch::report::testing {

// Hostile text used in the spec and in error messages: every LaTeX special, markdown
// and HTML markup, backticks, a pipe, "..." and a non-Latin code point.
extern const char kHostile[];

// Creates the database at `path` (which must not exist).
Status BuildFixtureDb(const std::string& path);

}  // namespace orch::report::testing
