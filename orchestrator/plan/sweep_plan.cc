#include "orchestrator/plan/sweep_plan.h"

#include <set>

#include "base/sha256.h"

namespace orch {

int SweepPlan::UniqueTrials() const {
  std::set<std::string> keys;
  for (const auto& t : trials) keys.insert(t.key);
  return static_cast<int>(keys.size());
}

std::string PlanHash(const Spec& spec, const ResolvedInputs& inputs) {
  // Bump kKeyScheme when canonicalization or TrialKey changes.
  constexpr int kKeyScheme = 1;
  nlohmann::json j = {{"scheme", kKeyScheme},          {"spec", Sha256Hex(spec.text)},
                      {"tokenizer", inputs.tokenizer}, {"dataset", inputs.dataset},
                      {"worker", inputs.worker},       {"worker_id", inputs.worker_id},
                      {"fingerprints", inputs.fingerprints}};
  // Other workers (the `worker` axis) only when used, so older plans hash as before.
  for (const auto& [name, w] : inputs.workers) {
    if (name != "orch") j["workers"][name] = {w.path, w.build_id};
  }
  return Sha256Hex(j.dump());
}

store::SweepDef SweepPlan::ToSweepDef(const std::string& spec_path_abs) const {
  store::SweepDef def;
  def.name = spec.name;
  def.spec_path = spec_path_abs;
  def.spec_text = spec.text;
  def.spec_hash = Sha256Hex(spec.text);
  def.context = spec.context;
  def.conclusion = spec.conclusion;
  def.plan_hash = PlanHash(spec, inputs);
  def.claim_order = spec.claim_order;
  for (const ExpandedStudy& es : studies) {
    store::StudyDef sd;
    sd.id = es.study->id;
    sd.title = es.study->title;
    sd.notes = es.study->notes;
    nlohmann::json baseline = nlohmann::json::object();
    for (const auto& [k, v] : es.study->baseline.entries) baseline[k] = v.value;
    sd.baseline_json = baseline.dump();
    for (const PlannedTrial& t : trials) {
      if (t.study == sd.id) {
        auto repeats = t.config.find("repeats");  // replicates: one worker process each
        bool given = repeats != t.config.end() && repeats->is_number_integer();
        sd.cells.push_back({t.key, t.config.dump(), DescribeCombination(t.combination),
                            given ? repeats->get<int>() : 1});
      }
    }
    def.studies.push_back(std::move(sd));
  }
  return def;
}

SweepPlan BuildPlan(SpecParse parsed, store::Store* cache, bool write_cache) {
  if (!parsed.ok()) return BuildPlan(std::move(parsed), ResolvedInputs{});
  std::vector<SpecError> input_errors;
  ResolvedInputs inputs = ResolveInputs(parsed.spec, cache, write_cache, &input_errors);
  parsed.errors = std::move(input_errors);
  return BuildPlan(std::move(parsed), std::move(inputs));
}

SweepPlan BuildPlan(SpecParse parsed, ResolvedInputs inputs) {
  SweepPlan plan;
  plan.spec = std::move(parsed.spec);
  plan.errors = std::move(parsed.errors);
  plan.inputs = std::move(inputs);
  if (!plan.errors.empty() && plan.inputs.worker.empty()) return plan;  // spec errors
  plan.studies = ExpandStudies(plan.spec, &plan.errors);
  if (!plan.errors.empty()) return plan;
  // Each cell's documents move into its trial (one copy of every config in memory, not
  // two: at 100,000 trials the plan is most of `orch run`'s memory, issue 18).
  for (ExpandedStudy& es : plan.studies) {
    for (Cell& cell : es.cells) {
      std::string key = TrialKey(cell.config, plan.inputs);
      plan.trials.push_back({std::move(key), es.study->id, std::move(cell.config),
                             std::move(cell.combination)});
    }
    es.cells.clear();
    es.cells.shrink_to_fit();
    for (const auto& ex : es.excluded) plan.excluded.emplace_back(es.study->id, ex);
  }
  return plan;
}

}  // namespace orch
