// FaultPoint: a named crash point for tests, as LevelDB's fault injection. When the
// environment variable ORCH_FAULT names the point, the process SIGKILLs itself there,
// so a test can stop orch deterministically inside each crash window (after a claim,
// after a spawn, between a worker's result and its recording, inside the result
// transaction) and check that a resume loses nothing and runs nothing twice.
// FaultHit("name") instead reports whether the point is armed, for points that simulate
// a machine fault rather than a crash. Always compiled in; inert unless ORCH_FAULT is
// set. Reads the environment once; any thread.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace orch {

inline bool FaultHit(const char* name) {
  static const char* const armed = std::getenv("ORCH_FAULT");
  return armed != nullptr && std::strcmp(armed, name) == 0;
}

inline void FaultPoint(const char* name) {
  if (FaultHit(name)) ::kill(::getpid(), SIGKILL);
}

}  // namespace orch
