// Slots: where trials run at the same time. One slot per GPU (`--gpus 0,1`), or N CPU
// slots (`-j N`) that share between them the CPUs this process may use. GPU indices
// count within an inherited CUDA_VISIBLE_DEVICES, as under SLURM; pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "orchestrator/machine_facts.h"

namespace orch {

struct Slot {
  std::string name;                                 // "cpu:0", "gpu:1"
  std::optional<std::string> cuda_visible_devices;  // set for GPU slots
  int cpu_threads = 0;  // CPU slots: the cores each worker may use (ORCH_WORKER_THREADS)
};

// Parses `--gpus` / `-j N` into slots (default: one CPU slot). `--gpus` takes indices
// (0,1), GPU UUIDs (GPU-8f2a…) and MIG ids (MIG-…). With CUDA_VISIBLE_DEVICES inherited,
// index i is its i-th entry, and a UUID or MIG id must be one of its entries. CPU slots
// get UsableCpus(facts) / jobs threads each (at least 1).
StatusOr<std::vector<Slot>> MakeSlots(const std::string& gpus, int jobs,
                                      const MachineFacts& facts);
// The same with this process's facts.
StatusOr<std::vector<Slot>> MakeSlots(const std::string& gpus, int jobs);

}  // namespace orch
