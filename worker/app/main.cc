// orch-worker: runs one trial of docs/protocol.md. Thin entry point over orch_worker_lib.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "worker/app/build_id.h"
#include "worker/app/events.h"
#include "worker/app/trial_io.h"
#include "worker/app/trial_runner.h"

namespace {

constexpr const char* kUsage =
    "usage: orch-worker --trial PATH/trial.json\n"
    "       orch-worker --version\n"
    "Runs one trial (docs/protocol.md): reads trial.json, appends JSON-line events to its\n"
    "events_path, writes result.json atomically. Exit 0 whenever result.json was written.\n"
    "Environment: ORCH_WORKER_THREADS (CPU intra-op threads).\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace orch::worker;
  std::string trial_path;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--version")) {
      std::printf("%s\n", WorkerBuildId().c_str());
      return 0;
    }
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!std::strcmp(argv[i], "--trial") && i + 1 < argc) {
      trial_path = argv[++i];
    } else {
      std::fprintf(stderr, "orch-worker: unexpected argument '%s'\n%s", argv[i], kUsage);
      return 2;
    }
  }
  if (trial_path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string error;
  auto trial = ReadTrialFile(trial_path, &error);
  if (!trial) {
    std::fprintf(stderr, "orch-worker: %s\n", error.c_str());
    return 2;
  }
  EventSink events(trial->events_path);
  if (!events.ok())
    std::fprintf(stderr, "orch-worker: %s (continuing without events)\n", events.error().c_str());
  events.Started(static_cast<int64_t>(::getpid()), kProtocolVersion);
  ConfigureThreads();
  TrialResult result = RunTrial(*trial, events);
  if (!WriteResultAtomically(trial->result_path, result, &error)) {
    events.Failure("error", error);
    std::fprintf(stderr, "orch-worker: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
