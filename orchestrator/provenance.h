// Provenance: where and with what a sweep ran — orch's git commit and dirty flag, build
// type, compiler, host, OS, CPU model, GPUs (name, UUID, driver, via nvidia-smi when it
// exists) and the UTC start time — as one JSON object stored with every run. Probes run
// under a timeout: a wedged GPU driver makes nvidia-smi hang, and must not hang orch.
#pragma once

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace orch {

// `probe_timeout_s` bounds each external probe (nvidia-smi); a probe that times out is
// killed and named in "probe_errors".
nlohmann::json CollectProvenance(double probe_timeout_s = 10);

// This process as the owner of attempts: host, pid, and the pid's start time (so a
// reused pid is not mistaken for a live orchestrator).
store::Owner SelfOwner();
// True when `owner` is this host's process that is still running (same start time).
// Owners on other hosts are assumed alive: one database serves one host at a time.
bool OwnerAlive(const store::Owner& owner);

}  // namespace orch
