// SweepPlan: a validated spec turned into what would run — its studies' cells with
// their trial keys, the excluded cells, and the resolved inputs. Shared by `orch plan`
// (no side effects), `orch run` and `orch resume`.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "orchestrator/plan/inputs.h"
#include "orchestrator/plan/matrix.h"
#include "orchestrator/plan/spec.h"
#include "store/records.h"

namespace orch {

struct PlannedTrial {
  std::string key;
  std::string study;
  nlohmann::json config;
  nlohmann::json combination;
};

struct SweepPlan {
  Spec spec;
  ResolvedInputs inputs;
  // The studies as expanded, their cells empty: BuildPlan moves them into `trials`,
  // ExpandPlan hands them over one by one.
  std::vector<ExpandedStudy> studies;
  std::vector<PlannedTrial> trials;  // in spec order; a cell shared by studies appears per study
  std::vector<std::pair<std::string, nlohmann::json>> excluded;  // study id, combination
  std::vector<SpecError> errors;
  bool ok() const { return errors.empty(); }
  int UniqueTrials() const;
  // The sweep as the store records it: SweepHeader's studies with the cells of `trials`.
  store::SweepDef ToSweepDef(const std::string& spec_path_abs) const;
  // The sweep and its studies (in spec order, without cells), for the streaming
  // Store::UpsertSweep that ExpandPlan feeds.
  store::SweepDef SweepHeader(const std::string& spec_path_abs) const;
};

// A planned trial as the store records it.
store::CellDef ToCellDef(const PlannedTrial& trial);

// Expands `plan` (its spec, inputs and errors set, nothing expanded yet) study by study,
// handing each trial to `each` with its study's index in plan.studies as soon as its key
// is computed, in spec order; nothing of a trial is kept (plan.trials stays as it is), so
// memory holds one study's matrix at a time however large the sweep (issue 18). Every
// study is expanded, so plan.errors gets every problem; once it holds one no trial is
// handed over any more. An error from `each` stops the expansion and is returned.
Status ExpandPlan(SweepPlan* plan, const std::function<Status(size_t, PlannedTrial&&)>& each);

// `cache` may be null; `write_cache` false keeps `orch plan` free of side effects.
SweepPlan BuildPlan(SpecParse parsed, store::Store* cache, bool write_cache);
// The same with inputs already resolved (their errors already reported).
SweepPlan BuildPlan(SpecParse parsed, ResolvedInputs inputs);

// Hash of everything the expansion and the keys depend on: the spec text, the resolved
// inputs and their fingerprints, the worker build, and the key scheme's version. Equal
// hashes mean an equal plan, so a resume can skip expanding it again.
std::string PlanHash(const Spec& spec, const ResolvedInputs& inputs);

}  // namespace orch
