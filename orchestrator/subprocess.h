// Subprocess: one worker process, spawned ninja-style: argv only (no shell), its own
// process group, stdin from /dev/null, stdout+stderr appended to a log file, and the
// write end of an event pipe as fd 3. Exit is observed through a pidfd, so a poll loop
// wakes the moment a child ends; signals go to the whole group; the child is reaped
// explicitly (no zombies). Used from the scheduler's single thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace orch {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the executable path
  std::string cwd;
  std::string log_path;           // stdout and stderr, appended
  std::vector<std::pair<std::string, std::string>> env;  // added to / replacing environ
  bool event_pipe = true;         // give the child fd 3 = write end of a pipe
};

struct ExitInfo {
  bool signaled = false;
  int code = 0;    // exit code, or the signal number when signaled
};

class Subprocess {
 public:
  static StatusOr<Subprocess> Spawn(const SpawnOptions& opts);
  Subprocess(Subprocess&& o) noexcept;
  Subprocess& operator=(Subprocess&& o) noexcept;
  ~Subprocess();  // kills the group and reaps if still running

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_; }        // readable when the child has exited
  int event_fd() const { return event_fd_; }  // read end of the event pipe, or -1

  // Sends `sig` to the child's process group (no-op once reaped).
  void SignalGroup(int sig);
  // Non-blocking: true once the child has exited; then kills what is left of its group
  // (grandchildren keep no GPU), reaps it and fills `info`.
  bool TryReap(ExitInfo* info);
  void CloseEventFd();

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int event_fd_ = -1;
  bool reaped_ = false;
};

// Runs a short helper command (argv only) and returns its stdout, or an error; used for
// provenance probes such as nvidia-smi. Returns an error when the program is missing.
StatusOr<std::string> CaptureOutput(const std::vector<std::string>& argv);

// "SIGSEGV" for 11, etc.
std::string SignalName(int sig);

}  // namespace orch
