// Subprocess: one worker process, spawned ninja-style: argv only (no shell), its own
// process group, stdin from /dev/null, stdout+stderr into a pipe that the orchestrator
// reads (so it can cap worker.log), and the write end of an event pipe as fd 3. Every
// descriptor orch opens is close-on-exec, so a child inherits exactly fds 0-3. Exit is
// observed through a pidfd, or, on kernels without pidfd_open (before 5.3) or with
// ORCH_NO_PIDFD=1, through a SIGCHLD self-pipe; either way a poll loop wakes the moment a
// child ends. Signals go to the whole group; the child is reaped explicitly (no zombies).
// Used from the scheduler's single thread.
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
  std::vector<std::pair<std::string, std::string>> env;  // added to / replacing environ
  bool event_pipe = true;         // give the child fd 3 = write end of a pipe
};

struct ExitInfo {
  bool signaled = false;
  int code = 0;    // exit code, or the signal number when signaled
};

class Subprocess {
 public:
  // Errors: Status::Resource when the machine is short of something (descriptors,
  // processes, memory: EMFILE, ENFILE, EAGAIN, ENOMEM), a plain error when the program
  // itself cannot run (missing, not executable, bad interpreter).
  static StatusOr<Subprocess> Spawn(const SpawnOptions& opts);
  Subprocess(Subprocess&& o) noexcept;
  Subprocess& operator=(Subprocess&& o) noexcept;
  ~Subprocess();  // kills the group and reaps if still running

  pid_t pid() const { return pid_; }
  // Readable when the child may have exited: its pidfd, or in the fallback the SIGCHLD
  // self-pipe shared by all children (TryReap drains it). Poll it; never read it.
  int pidfd() const { return pidfd_ >= 0 ? pidfd_ : SigchldFd(); }
  bool uses_pidfd() const { return pidfd_ >= 0; }
  int event_fd() const { return event_fd_; }   // read end of the event pipe, or -1
  int output_fd() const { return output_fd_; } // read end of stdout+stderr, or -1

  // Sends `sig` to the child's process group (no-op once reaped).
  void SignalGroup(int sig);
  // Non-blocking: true once the child has exited; then kills what is left of its group
  // (grandchildren keep no GPU), reaps it and fills `info`.
  bool TryReap(ExitInfo* info);
  void CloseEventFd();
  void CloseOutputFd();

 private:
  Subprocess() = default;
  static int SigchldFd();
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int event_fd_ = -1;
  int output_fd_ = -1;
  bool reaped_ = false;
};

// Runs a short helper command (argv only, PATH searched, its own process group) and
// returns its stdout (at most 1 MiB), or an error when the program is missing, fails,
// or gives no answer within `timeout_s` (then its whole group is killed). Used for
// provenance probes such as nvidia-smi, which can hang on a wedged driver.
StatusOr<std::string> CaptureOutput(const std::vector<std::string>& argv,
                                    double timeout_s = 10);

// "SIGSEGV" for 11, etc.
std::string SignalName(int sig);

}  // namespace orch
