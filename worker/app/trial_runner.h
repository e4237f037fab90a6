// TrialRunner: one trial of docs/protocol.md from parsed trial.json to a TrialResult:
// validation (unsupported combinations answer `blocked` before any weight is read), model
// loading, quantization, the eval / sanity / profile mode, and the mapping of failures to
// outcomes (c10::OutOfMemoryError -> oom, other CUDA errors -> cuda_error, rest -> error).
// Never throws. Emits phase/warning/failure events on the given sink.
#pragma once

#include <exception>

#include "worker/app/events.h"
#include "worker/app/trial_io.h"

namespace orch::worker {

TrialResult RunTrial(const Trial& trial, EventSink& events);

// The outcome of a trial that ended with the in-flight exception `e`:
// c10::OutOfMemoryError -> oom, a c10::Error with a CUDA error message -> cuda_error,
// anything else -> error. The reason is the message's first line.
TrialResult ResultFromException(std::exception_ptr e);

// Intra-op threads for CPU work: $ORCH_WORKER_THREADS, else the cores available to this
// process (LibTorch may default to 1 in containers).
int ConfigureThreads();

}  // namespace orch::worker
