#include "report/contrast.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "report/facts.h"

namespace orch::report {

CellPair ContrastCells(std::string label, const Cell& reference, const Cell& other,
                       const ContrastOptions& opts) {
  CellPair p;
  p.label = std::move(label);
  p.reference = reference;
  p.other = other;
  if (!reference.ok() || !other.ok()) {
    p.unavailable_why = !reference.ok() && !other.ok() ? "neither cell has measurements"
                        : !reference.ok()              ? "the reference ended " + reference.outcome
                                                       : "the other cell ended " + other.outcome;
    return p;
  }
  if (reference.tpot && other.tpot && reference.tpot->median > 0 &&
      reference.tpot->bootstrap_medians.size() == other.tpot->bootstrap_medians.size() &&
      !reference.tpot->bootstrap_medians.empty()) {
    p.ratio = other.tpot->median / reference.tpot->median;
    p.ratio_ci = RatioInterval(other.tpot->bootstrap_medians, reference.tpot->bootstrap_medians,
                               opts.confidence);
    p.speed = JudgeSpeed(p.ratio_ci, *p.ratio, opts.min_effect,
                         other.tpot->replicates > 1 && reference.tpot->replicates > 1);
  } else {
    p.unavailable_why = "no per-token samples";
  }
  if (reference.ppl && other.ppl && *reference.ppl > 0) {
    p.ppl_change = *other.ppl / *reference.ppl - 1.0;
    p.ppl = std::fabs(*p.ppl_change) <= opts.ppl_tolerance ? PplVerdict::kStable
            : *p.ppl_change > 0                            ? PplVerdict::kHigher
                                                           : PplVerdict::kLower;
  }
  return p;
}

const std::vector<std::string>& ExecutionPolicyKeys() {
  static const std::vector<std::string> kKeys = {"heartbeat_timeout", "retries", "timeout"};
  return kKeys;
}

std::string JoinConfig(const CellConfig& config, const std::vector<std::string>& ignored) {
  nlohmann::json j = nlohmann::json::parse(config.json, nullptr, false);
  if (!j.is_object()) return config.json;
  for (const std::string& k : ignored) j.erase(k);
  return j.dump();
}

}  // namespace orch::report
