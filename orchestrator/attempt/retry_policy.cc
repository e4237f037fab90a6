#include "orchestrator/attempt/retry_policy.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "base/outcome.h"

namespace orch {

int MaxAttempts(const std::string& config_json) {
  nlohmann::json c = nlohmann::json::parse(config_json, nullptr, false);
  int retries = c.is_object() && c.contains("retries") && c["retries"].is_number_integer()
                    ? c["retries"].get<int>()
                    : 1;
  return 1 + std::clamp(retries, 0, 1000);
}

bool IsTerminal(const store::AttemptResult& result, KillReason killed_for, int try_number,
                const std::string& config_json) {
  OutcomeClass oc = ParseOutcome(result.outcome).value_or(OutcomeClass::kError);
  // The user stopped the sweep: the next run does this trial again.
  if (oc == OutcomeClass::kInterrupted && killed_for == KillReason::kInterrupted) return false;
  return !IsTransient(oc) || try_number >= MaxAttempts(config_json);
}

}  // namespace orch
