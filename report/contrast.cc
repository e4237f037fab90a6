#include "report/contrast.h"

#include <algorithm>
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
  Comparison c = CompareMeasurements(other, reference, opts.confidence, opts.min_effect,
                                     opts.ppl_tolerance);
  p.ratio = c.ratio;
  p.ratio_ci = c.ratio_ci;
  p.speed = c.speed;
  p.ppl_change = c.ppl_change;
  p.ppl = c.ppl;
  p.unavailable_why = c.unavailable_why;
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
