// Retry policy: whether an attempt's result ends its trial or sends it back to pending.
// A transient class (crash, hung, cuda_error, ...) is retried while the replicate has
// tries left (`retries` in its config, default 1, counted per replicate by the store's
// try_number); an attempt the user or a dead orchestrator interrupted is never terminal
// and never counts as a try (try_number skips interrupted attempts). A terminal ok ends
// only its replicate: the store keeps the trial pending until it has all of them.
// Pure functions, any thread.
#pragma once

#include <string>

#include "orchestrator/attempt/classify.h"
#include "store/records.h"

namespace orch {

// 1 + the config's `retries` (default 1, negative = 0).
int MaxAttempts(const std::string& config_json);

// True when `result` (classified; `killed_for` is why orch stopped the worker, if it
// did) is the trial's final outcome at try `try_number`.
bool IsTerminal(const store::AttemptResult& result, KillReason killed_for, int try_number,
                const std::string& config_json);

}  // namespace orch
