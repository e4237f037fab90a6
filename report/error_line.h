// FirstErrorLine: the one line of a worker's stderr tail that says what went wrong,
// for crashed, OOM, timed-out and hung cells. Skips blank lines and traceback/backtrace
// framing and prefers lines that name an error; the result is one line of valid UTF-8,
// at most kMaxErrorLine bytes. Pure function; any thread.
#pragma once

#include <cstddef>
#include <string>

namespace orch::report {

inline constexpr size_t kMaxErrorLine = 240;

// "" when the tail holds nothing but blank or framing lines.
std::string FirstErrorLine(const std::string& stderr_tail);

}  // namespace orch::report
