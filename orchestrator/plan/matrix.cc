#include "orchestrator/plan/matrix.h"

#include <map>

#include "orchestrator/plan/config_schema.h"

namespace orch {
namespace {

struct Combo {
  nlohmann::json original = nlohmann::json::object();  // matrix axes: never overwritten
  nlohmann::json added = nlohmann::json::object();     // keys from include entries
  SourcePos origin;
};

nlohmann::json ToJson(const PartialConfig& pc) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : pc.entries) j[k] = v.value;
  return j;
}

bool Matches(const nlohmann::json& combo, const nlohmann::json& pattern) {
  for (const auto& [k, v] : pattern.items()) {
    if (!combo.contains(k) || combo[k] != v) return false;
  }
  return true;
}

}  // namespace

std::string DescribeCombination(const nlohmann::json& combination) {
  std::string out;
  for (const auto& [k, v] : combination.items()) {
    out += (out.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out.empty() ? "(defaults)" : out;
}

nlohmann::json IdentityConfig(const nlohmann::json& config) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : config.items()) {
    const ConfigKey* key = FindConfigKey(k);
    if (key && !key->identity) continue;
    // The inputs as the spec names them are for people; their fingerprints identify them.
    if (k == "model" || k == "dataset") continue;
    // The default worker is left out so that keys of sweeps written before the `worker`
    // axis existed stay the same; any other worker is part of the identity (and its build
    // id is in the trial key either way).
    if (k == "worker" && v == kDefaultWorker) continue;
    // quantize_head came later: its default stays out so that earlier keys stay the same.
    if (k == "quantize_head" && v == "false") continue;
    out[k] = v;
  }
  return out;
}

namespace {

// The size of the product is checked before anything is expanded: a spec (aliases make
// that easy) can name more cells than memory holds. False after adding the error.
bool CheckMatrixSize(const Spec& spec, const StudySpec& study, const std::string& where,
                     std::vector<SpecError>* errors) {
  if (study.matrix.empty()) return true;
  unsigned long long n = 1;
  bool over = false;
  std::string shape;
  for (const Axis& axis : study.matrix) {
    unsigned long long k = axis.values.size();
    if (!over) over = __builtin_mul_overflow(n, k, &n);
    shape += (shape.empty() ? "" : " x ") + axis.name + " " + std::to_string(k);
  }
  if (!over && n + study.include.size() <= kMaxCells) return true;
  errors->push_back({spec.path, study.matrix.front().pos, where + ".matrix",
                     "the matrix has " + (over ? "too many" : std::to_string(n)) + " cells (" +
                         shape + "), more than the limit of " + std::to_string(kMaxCells) +
                         "; split the study"});
  return false;
}

// Cartesian product in the order the axes are written.
std::vector<Combo> CartesianProduct(const StudySpec& study) {
  std::vector<Combo> combos;
  if (study.matrix.empty()) return combos;
  combos.push_back({});
  combos.back().origin = study.matrix.front().pos;
  for (const Axis& axis : study.matrix) {
    std::vector<Combo> next;
    for (const Combo& c : combos) {
      for (const SpecValue& v : axis.values) {
        Combo n = c;
        n.original[axis.name] = v.value;
        next.push_back(std::move(n));
      }
    }
    combos = std::move(next);
  }
  return combos;
}

// exclude: drops every combination matching all keys of an entry; an entry that matches
// nothing is a warning.
void ApplyExclude(const Spec& spec, const StudySpec& study, const std::string& where,
                  std::vector<Combo>* combos, ExpandedStudy* es) {
  std::vector<nlohmann::json> exclude;
  for (const PartialConfig& e : study.exclude) exclude.push_back(ToJson(e));
  std::vector<bool> exclude_used(exclude.size(), false);
  std::vector<Combo> kept;
  for (Combo& c : *combos) {
    bool drop = false;
    for (size_t i = 0; i < exclude.size(); ++i) {
      if (Matches(c.original, exclude[i])) drop = exclude_used[i] = true;
    }
    if (drop) es->excluded.push_back(c.original);
    else kept.push_back(std::move(c));
  }
  *combos = std::move(kept);
  for (size_t i = 0; i < exclude.size(); ++i) {
    if (exclude_used[i]) continue;
    es->warnings.push_back({spec.path, study.exclude[i].pos,
                            where + ".exclude[" + std::to_string(i) + "]",
                            "matches no cell of the matrix: " + DescribeCombination(exclude[i]) +
                                " excludes nothing"});
  }
}

// include: extends every original combination that the entry does not contradict on an
// original axis; an entry that extends none becomes a new cell.
void ApplyInclude(const Spec& spec, const StudySpec& study, const std::string& where,
                  std::vector<Combo>* combos, ExpandedStudy* es) {
  size_t n_original = combos->size();
  for (size_t inc_i = 0; inc_i < study.include.size(); ++inc_i) {
    const PartialConfig& inc = study.include[inc_i];
    nlohmann::json entry = ToJson(inc);
    bool extended = false;
    for (size_t i = 0; i < n_original; ++i) {
      Combo& c = (*combos)[i];
      bool compatible = true;
      for (const auto& [k, v] : entry.items()) {
        if (c.original.contains(k) && c.original[k] != v) compatible = false;
      }
      if (!compatible) continue;
      for (const auto& [k, v] : entry.items()) {
        if (!c.original.contains(k)) c.added[k] = v;
      }
      extended = true;
    }
    if (extended) continue;
    if (!study.matrix.empty()) {
      es->warnings.push_back({spec.path, inc.pos, where + ".include[" + std::to_string(inc_i) + "]",
                              "matches no cell of the matrix: " + DescribeCombination(entry) +
                                  " is added as a cell of its own"});
    }
    Combo n;
    n.added = entry;
    n.origin = inc.pos;
    combos->push_back(std::move(n));
  }
}

// Each combination's full configuration (built-in defaults, the spec's defaults, the
// study's settings, the combination); two that resolve to one configuration are an error.
void ResolveCells(const Spec& spec, const StudySpec& study, const std::string& where,
                  const nlohmann::json& base, std::vector<Combo>* combos, ExpandedStudy* es,
                  std::vector<SpecError>* errors) {
  std::map<std::string, size_t> seen;  // identity -> index in es->cells
  for (Combo& c : *combos) {
    Cell cell;
    cell.combination = c.original;
    cell.combination.update(c.added);
    cell.config = base;
    cell.config.update(ToJson(study.settings));
    cell.config.update(cell.combination);
    cell.origin = c.origin;
    std::string id = IdentityConfig(cell.config).dump();
    auto [it, inserted] = seen.emplace(id, es->cells.size());
    if (!inserted) {
      errors->push_back({spec.path, c.origin, where,
                         "duplicate cell: " + DescribeCombination(cell.combination) +
                             " resolves to the same configuration as " +
                             DescribeCombination(es->cells[it->second].combination)});
      continue;
    }
    es->cells.push_back(std::move(cell));
  }
}

}  // namespace

std::vector<ExpandedStudy> ExpandStudies(const Spec& spec, std::vector<SpecError>* errors) {
  std::vector<ExpandedStudy> out;
  nlohmann::json base = BuiltinDefaults();
  base.update(ToJson(spec.defaults));
  if (!spec.model.empty()) base["model"] = spec.model;
  if (!spec.dataset.empty()) base["dataset"] = spec.dataset;
  for (const StudySpec& study : spec.studies) {
    ExpandedStudy es;
    es.study = &study;
    std::string where = "studies." + study.id;
    if (!CheckMatrixSize(spec, study, where, errors)) continue;
    std::vector<Combo> combos = CartesianProduct(study);
    ApplyExclude(spec, study, where, &combos, &es);
    ApplyInclude(spec, study, where, &combos, &es);
    if (combos.empty()) {
      errors->push_back({spec.path, study.pos, where,
                         study.exclude.empty() ? "empty matrix: the study has no cells"
                                               : "exclude removes every cell of the matrix"});
    }
    ResolveCells(spec, study, where, base, &combos, &es, errors);
    out.push_back(std::move(es));
  }
  return out;
}

}  // namespace orch
