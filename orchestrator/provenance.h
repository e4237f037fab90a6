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


}  // namespace orch
