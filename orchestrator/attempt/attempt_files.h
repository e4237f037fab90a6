// Attempt files: every name orch, a worker or a SLURM batch script gives a file in an
// attempt directory (RUNS/KEY/attempt-N, attempt_dir.h), in one place, after LevelDB's
// db/filename.h, and the one way orch reads them back.
//
//   trial.json     orch -> worker: the trial document (trial_document.h)
//   events.jsonl   the worker's events (a copy of the event pipe locally; the file the
//                  worker appends to under SLURM)
//   result.json    worker -> orch: written atomically, last (docs/protocol.md)
//   worker.log     the worker's stdout+stderr (capped, bounded_log.h)
//   slurm_started  SLURM only: "<job id> <unix time>" just before the worker starts
//   exit_status    SLURM only: the worker's wait status as the shell reports it
//   abandoned      SLURM only: orch gave the attempt up; a task that reaches it skips it
//   orch_kill      SLURM only: orch cancelled the task for a reason of its own (hung,
//                  timeout), written before the scancel, so that whoever polls next
//                  classifies the end by that reason and not as a user's cancel
//
// Every file here is written by a process orch does not trust (the worker can replace
// any of them by a FIFO, a symlink to /dev/zero, a directory): ReadAttemptFile opens with
// O_NONBLOCK | O_NOFOLLOW, refuses anything fstat does not call a regular file, and reads
// at most the bytes asked for, so no such file can block, exhaust or crash orch. Any
// thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "base/status.h"

namespace orch {

inline constexpr const char* kTrialFileName = "trial.json";
inline constexpr const char* kEventsFileName = "events.jsonl";
inline constexpr const char* kResultFileName = "result.json";
inline constexpr const char* kWorkerLogFileName = "worker.log";
inline constexpr const char* kStartedFileName = "slurm_started";
inline constexpr const char* kExitStatusFileName = "exit_status";
inline constexpr const char* kAbandonedFileName = "abandoned";
inline constexpr const char* kOrchKillFileName = "orch_kill";

// <attempt_dir>/<name>.
std::string TrialFilePath(const std::string& attempt_dir);
std::string EventsFilePath(const std::string& attempt_dir);
std::string ResultFilePath(const std::string& attempt_dir);
std::string WorkerLogPath(const std::string& attempt_dir);
std::string StartedFilePath(const std::string& attempt_dir);
std::string ExitStatusFilePath(const std::string& attempt_dir);
std::string AbandonedFilePath(const std::string& attempt_dir);
std::string OrchKillFilePath(const std::string& attempt_dir);

// The first `max_bytes` of a regular file (fewer when it is shorter: the buffer is sized
// by fstat, never by the cap); nullopt when the path is absent, a symlink, a FIFO, a
// device, a directory, or cannot be opened or read.
std::optional<std::string> ReadAttemptFile(const std::string& path, size_t max_bytes);

// The last `max_bytes` of a regular file, with the same refusals; `*cut` (when given)
// says whether bytes before them were left out.
std::optional<std::string> ReadAttemptFileTail(const std::string& path, size_t max_bytes,
                                               bool* cut = nullptr);

// Whether `path` exists as anything (lstat: a dangling symlink exists).
bool AttemptFileExists(const std::string& path);

// Creates or replaces `path` with `text` without following a symlink or blocking on a
// FIFO a worker left there (O_NOFOLLOW | O_NONBLOCK; an existing non-regular file is
// removed first), then fsyncs it: a marker orch writes must be on disk before the
// action it announces.
Status WriteAttemptMarker(const std::string& path, const std::string& text);

}  // namespace orch
