// Matrix expansion: a study's `matrix` (cartesian product), `exclude` and `include`
// (GitHub Actions semantics) turned into cells, each resolved as
// built-in defaults <- spec defaults <- study settings <- combination.
// Pure function of the parsed spec; reports duplicate cells and empty studies.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "orchestrator/plan/spec.h"

namespace orch {

struct Cell {
  nlohmann::json config;       // fully resolved, every known key present, sorted keys
  nlohmann::json combination;  // the keys the matrix/include chose (for display)
  std::string identity;        // IdentityConfig(config).dump(): what makes it one experiment
  SourcePos origin;            // where in the spec this cell comes from
};

struct ExpandedStudy {
  const StudySpec* study = nullptr;
  std::vector<Cell> cells;
  std::vector<nlohmann::json> excluded;  // combinations removed by `exclude`
  // include/exclude entries that match no cell of the matrix (likely typos): printed by
  // `orch plan` and by `orch run` when it plans the sweep; they do not stop it.
  std::vector<SpecError> warnings;
};

// A study may have at most this many cells; the product of its axes is checked before
// anything is expanded.
inline constexpr unsigned long long kMaxCells = 1000000;

// What every cell starts from: the built-in defaults, the spec's defaults, its inputs.
nlohmann::json ExpansionBase(const Spec& spec);

// Expands one study (`base` from ExpansionBase), handing each cell to `each` in order as
// soon as it is resolved instead of keeping it: `es` gets the study, its excluded
// combinations and warnings, and its `cells` stay as they were. Problems are appended to
// `errors`; false, with nothing expanded, when the study is over kMaxCells. A cell that
// duplicates an earlier one is reported and not handed over.
bool ExpandStudy(const Spec& spec, const StudySpec& study, const nlohmann::json& base,
                 const std::function<void(Cell&&)>& each, ExpandedStudy* es,
                 std::vector<SpecError>* errors);

// Expands every study; problems are appended to `errors` (file:line:col as in spec.h).
// A study over kMaxCells is reported and not expanded.
std::vector<ExpandedStudy> ExpandStudies(const Spec& spec, std::vector<SpecError>* errors);

// The part of a resolved config that identifies the experiment (no execution policy such
// as timeouts, no input names: the trial key holds the inputs' fingerprints instead), with
// sorted keys: two cells are the same experiment iff these are equal. `worker` is omitted
// when it is the default (orch), so keys from before the worker axis are unchanged.
nlohmann::json IdentityConfig(const nlohmann::json& config);
// IdentityConfig(config).dump(), byte for byte, written without building the document.
std::string IdentityDump(const nlohmann::json& config);

// "quant=int8wo window=64": a combination for people to read.
std::string DescribeCombination(const nlohmann::json& combination);

}  // namespace orch
