#include "orchestrator/plan/matrix.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

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

namespace {

// Whether the config's key `k` with value `v` is part of the experiment's identity.
bool InIdentity(const std::string& k, const nlohmann::json& v) {
  const ConfigKey* key = FindConfigKey(k);
  if (key && !key->identity) return false;
  // The inputs as the spec names them are for people; their fingerprints identify them.
  if (k == "model" || k == "dataset") return false;
  // The default worker is left out so that keys of sweeps written before the `worker`
  // axis existed stay the same; any other worker is part of the identity (and its build
  // id is in the trial key either way).
  if (k == "worker" && v == kDefaultWorker) return false;
  // quantize_head came later: its default stays out so that earlier keys stay the same.
  if (k == "quantize_head" && v == "false") return false;
  return true;
}

// A key as nlohmann's dump writes it: quoted, escaped only where it must be.
void AppendKey(const std::string& k, std::string* out) {
  bool plain = std::all_of(k.begin(), k.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return c != '"' && c != '\\' && u >= 0x20 && u < 0x7f;
  });
  *out += plain ? "\"" + k + "\"" : nlohmann::json(k).dump();
}

}  // namespace

nlohmann::json IdentityConfig(const nlohmann::json& config) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : config.items()) {
    if (InIdentity(k, v)) out[k] = v;
  }
  return out;
}

std::string IdentityDump(const nlohmann::json& config) {
  // The config's keys are sorted (std::map), so its identity keys come in dump order.
  std::string out = "{";
  for (const auto& [k, v] : config.items()) {
    if (!InIdentity(k, v)) continue;
    if (out.size() > 1) out += ',';
    AppendKey(k, &out);
    out += ':';
    out += v.dump();
  }
  return out + "}";
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

// Cartesian product in the order the axes are written (the last axis varies fastest):
// combination i read as a number whose digits are the axes' value indices, each built
// once instead of copied axis by axis.
std::vector<Combo> CartesianProduct(const StudySpec& study) {
  std::vector<Combo> combos;
  if (study.matrix.empty()) return combos;
  size_t n = 1;
  for (const Axis& axis : study.matrix) n *= axis.values.size();  // CheckMatrixSize bounds it
  combos.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Combo& c = combos[i];
    c.origin = study.matrix.front().pos;
    size_t rest = i;
    for (size_t a = study.matrix.size(); a-- > 0;) {
      const Axis& axis = study.matrix[a];
      c.original[axis.name] = axis.values[rest % axis.values.size()].value;
      rest /= axis.values.size();
    }
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

// A combination's full configuration: built-in defaults, the spec's defaults, the study's
// settings, the combination.
Cell ResolveCell(const nlohmann::json& base, const nlohmann::json& settings, const Combo& c) {
  Cell cell;
  cell.combination = c.original;
  cell.combination.update(c.added);
  cell.config = base;
  cell.config.update(settings);
  cell.config.update(cell.combination);
  cell.origin = c.origin;
  cell.identity = IdentityDump(cell.config);
  return cell;
}

// Each combination's cell, handed to `each` as soon as it is resolved; two that resolve to
// one configuration are an error. Only a 64-bit hash of each identity is kept (issue 18:
// not the configurations); an equal hash is checked against the earlier cell's identity.
void ResolveCells(const Spec& spec, const StudySpec& study, const std::string& where,
                  const nlohmann::json& base, const std::vector<Combo>& combos,
                  const std::function<void(Cell&&)>& each, std::vector<SpecError>* errors) {
  const nlohmann::json settings = ToJson(study.settings);
  std::unordered_multimap<size_t, size_t> seen;  // hash of the identity -> combo index
  seen.reserve(combos.size());
  for (size_t i = 0; i < combos.size(); ++i) {
    Cell cell = ResolveCell(base, settings, combos[i]);
    const size_t hash = std::hash<std::string>{}(cell.identity);
    std::optional<size_t> first;
    for (auto [it, end] = seen.equal_range(hash); it != end && !first; ++it) {
      if (ResolveCell(base, settings, combos[it->second]).identity == cell.identity) {
        first = it->second;
      }
    }
    if (first) {
      errors->push_back({spec.path, cell.origin, where,
                         "duplicate cell: " + DescribeCombination(cell.combination) +
                             " resolves to the same configuration as " +
                             DescribeCombination(ResolveCell(base, settings, combos[*first])
                                                     .combination)});
      continue;
    }
    seen.emplace(hash, i);
    each(std::move(cell));
  }
}

}  // namespace

nlohmann::json ExpansionBase(const Spec& spec) {
  nlohmann::json base = BuiltinDefaults();
  base.update(ToJson(spec.defaults));
  if (!spec.model.empty()) base["model"] = spec.model;
  if (!spec.dataset.empty()) base["dataset"] = spec.dataset;
  return base;
}

bool ExpandStudy(const Spec& spec, const StudySpec& study, const nlohmann::json& base,
                 const std::function<void(Cell&&)>& each, ExpandedStudy* es,
                 std::vector<SpecError>* errors) {
  es->study = &study;
  std::string where = "studies." + study.id;
  if (!CheckMatrixSize(spec, study, where, errors)) return false;
  std::vector<Combo> combos = CartesianProduct(study);
  ApplyExclude(spec, study, where, &combos, es);
  ApplyInclude(spec, study, where, &combos, es);
  if (combos.empty()) {
    errors->push_back({spec.path, study.pos, where,
                       study.exclude.empty() ? "empty matrix: the study has no cells"
                                             : "exclude removes every cell of the matrix"});
  }
  ResolveCells(spec, study, where, base, combos, each, errors);
  return true;
}

std::vector<ExpandedStudy> ExpandStudies(const Spec& spec, std::vector<SpecError>* errors) {
  std::vector<ExpandedStudy> out;
  const nlohmann::json base = ExpansionBase(spec);
  for (const StudySpec& study : spec.studies) {
    ExpandedStudy es;
    auto keep = [&es](Cell&& cell) { es.cells.push_back(std::move(cell)); };
    if (ExpandStudy(spec, study, base, keep, &es, errors)) out.push_back(std::move(es));
  }
  return out;
}

}  // namespace orch
