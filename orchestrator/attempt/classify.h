// Classification: what an attempt's outcome class is, from what was observed of it
// (docs/protocol.md, "Classification by the orchestrator"): the orchestrator's own kill
// reason, result.json, the worker's final failure event, the stderr tail, the signal and
// the exit code. Pure functions: unit-tested without processes.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/local/subprocess.h"
#include "store/records.h"

namespace orch {

enum class KillReason { kNone, kTimeout, kHung, kInterrupted };

struct AttemptObservation {
  KillReason killed_for = KillReason::kNone;
  double limit_s = 0;  // the timeout that was exceeded, for the reason text
  ExitInfo exit;
  std::optional<std::string> result_text;  // result.json content when present
  std::optional<nlohmann::json> failure_event;
  std::vector<std::string> event_warnings;
  std::string stderr_tail;
  double duration_s = 0;
};

// result.json larger than this is not read: the attempt ends in `error`.
inline constexpr size_t kMaxResultBytes = size_t{64} << 20;  // 64 MiB
// A reason or warning from a worker is cut to this many bytes when stored.
inline constexpr size_t kMaxReasonBytes = 4096;

// Builds the stored result (everything but attempt_id and terminal). Never throws on
// anything a worker wrote: wrong types, missing fields, NaN/Infinity literals, unknown
// outcomes, invalid UTF-8, truncated or oversized files each end in an explained outcome
// (`error` with reason "invalid result.json: samples[0].repeat is a string, ...").
// Stored texts (reason, warnings, stderr tail) are valid UTF-8.
store::AttemptResult Classify(const AttemptObservation& obs);

// result.json's bytes, at most kMaxResultBytes + 1 of them (so that an oversized file is
// recognized without reading it whole; the buffer is the file's size, not the cap);
// nullopt when it is not a regular file (absent, a symlink, a FIFO, a device) or cannot
// be opened (attempt_files.h, ReadAttemptFile).
std::optional<std::string> ReadResultFile(const std::string& path);

// The last `max_lines` non-empty lines of the file's last 16 KiB; "" when it is not a
// regular file (a worker may leave worker.log a FIFO or a link to /dev/zero).
std::string ReadTail(const std::string& path, int max_lines);

}  // namespace orch
