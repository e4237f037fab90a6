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

store::SweepDef SweepPlan::SweepHeader(const std::string& spec_path_abs) const {
  store::SweepDef def;
  def.name = spec.name;
  def.spec_path = spec_path_abs;
  def.spec_text = spec.text;
  def.spec_hash = Sha256Hex(spec.text);
  def.context = spec.context;
  def.conclusion = spec.conclusion;
  def.plan_hash = PlanHash(spec, inputs);
  def.claim_order = spec.claim_order;
  for (const StudySpec& study : spec.studies) {
    store::StudyDef sd;
    sd.id = study.id;
    sd.title = study.title;
    sd.notes = study.notes;
    nlohmann::json baseline = nlohmann::json::object();
    for (const auto& [k, v] : study.baseline.entries) baseline[k] = v.value;
    sd.baseline_json = baseline.dump();
    def.studies.push_back(std::move(sd));
  }
  return def;
}

store::CellDef ToCellDef(const PlannedTrial& t) {
  auto repeats = t.config.find("repeats");  // replicates: one worker process each
  bool given = repeats != t.config.end() && repeats->is_number_integer();
  return {t.key, t.config.dump(), DescribeCombination(t.combination),
          given ? repeats->get<int>() : 1};
}

store::SweepDef SweepPlan::ToSweepDef(const std::string& spec_path_abs) const {
  store::SweepDef def = SweepHeader(spec_path_abs);
  for (store::StudyDef& sd : def.studies) {
    for (const PlannedTrial& t : trials) {
      if (t.study == sd.id) sd.cells.push_back(ToCellDef(t));
    }
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

Status ExpandPlan(SweepPlan* plan, const std::function<Status(size_t, PlannedTrial&&)>& each) {
  const nlohmann::json base = ExpansionBase(plan->spec);
  Status failed = Status::Ok();
  for (const StudySpec& study : plan->spec.studies) {
    ExpandedStudy es;
    const size_t index = plan->studies.size();
    auto hand_over = [&](Cell&& cell) {
      if (!failed.ok() || !plan->errors.empty()) return;
      std::string key = TrialKey(cell.config, cell.identity, plan->inputs);
      failed = each(index, {std::move(key), study.id, std::move(cell.config),
                            std::move(cell.combination)});
    };
    if (!ExpandStudy(plan->spec, study, base, hand_over, &es, &plan->errors)) continue;
    if (!failed.ok()) return failed;
    for (const auto& ex : es.excluded) plan->excluded.emplace_back(study.id, ex);
    plan->studies.push_back(std::move(es));
  }
  return Status::Ok();
}

SweepPlan BuildPlan(SpecParse parsed, ResolvedInputs inputs) {
  SweepPlan plan;
  plan.spec = std::move(parsed.spec);
  plan.errors = std::move(parsed.errors);
  plan.inputs = std::move(inputs);
  if (!plan.errors.empty() && plan.inputs.worker.empty()) return plan;  // spec errors
  // Each cell's documents move into its trial (one copy of every config in memory, not
  // two); `orch run` records the plan without keeping it (ExpandPlan, issue 18).
  Status kept = ExpandPlan(&plan, [&plan](size_t, PlannedTrial&& t) {
    plan.trials.push_back(std::move(t));
    return Status::Ok();
  });
  (void)kept;  // keeping a trial cannot fail
  if (!plan.errors.empty()) plan.trials.clear();  // as before: a plan with errors has none
  return plan;
}

}  // namespace orch
