// Slots: where trials run at the same time. One slot per GPU (`--gpus 0,1`), or N CPU
// slots (`-j N`) that share the cores between them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace orch {

struct Slot {
  std::string name;                                 // "cpu:0", "gpu:1"
  std::optional<std::string> cuda_visible_devices;  // set for GPU slots
  int cpu_threads = 0;  // CPU slots: the cores each worker may use (ORCH_WORKER_THREADS)
};

// Parses `--gpus 0,1` / `-j N` into slots (default: one CPU slot).
StatusOr<std::vector<Slot>> MakeSlots(const std::string& gpus, int jobs);

}  // namespace orch
