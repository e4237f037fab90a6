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
  if (!plain) {
    *out += nlohmann::json(k).dump();
    return;
  }
  out->push_back('"');
  out->append(k);
  out->push_back('"');
}

// A value as v.dump() writes it, without a string per value for the common kinds: an
// integer's digits, a plain ASCII string quoted (what AppendKey copies); anything else
// dumped (a dump per value of 100,000 cells was ~10% of `orch plan`, issue 18).
void AppendValue(const nlohmann::json& v, std::string* out) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    *out += std::to_string(v.get<int64_t>());
  } else if (v.is_number_unsigned()) {
    *out += std::to_string(v.get<uint64_t>());
  } else if (v.is_string()) {
    AppendKey(v.get_ref<const std::string&>(), out);
  } else {
    *out += v.dump();
  }
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
    AppendValue(v, &out);
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

// A study's combinations, built one at a time: the matrix's product in the order the axes
// are written (the last axis varies fastest; combination i read as a number whose digits
// are the axes' value indices), each extended by the `include` entries that do not
// contradict it on a matrix axis (GitHub Actions semantics), then the include entries that
// extend none, as combinations of their own. Nothing is kept per combination (issue 18),
// so any one can be built again from its number: i < product() is product combination i,
// product() + j include entry j.
class StudyCombos {
 public:
  explicit StudyCombos(const StudySpec& study) : study_(study) {
    for (const PartialConfig& e : study.exclude) exclude_.push_back(ToJson(e));
    for (const PartialConfig& e : study.include) include_.push_back(ToJson(e));
    if (study.matrix.empty()) return;
    product_ = 1;
    for (const Axis& axis : study.matrix) product_ *= axis.values.size();  // bounded
  }
  size_t product() const { return product_; }
  const std::vector<nlohmann::json>& exclude() const { return exclude_; }
  const std::vector<nlohmann::json>& include() const { return include_; }

  // Product combination i without its include extensions.
  Combo Original(size_t i) const {
    Combo c;
    c.origin = study_.matrix.front().pos;
    for (size_t a = study_.matrix.size(); a-- > 0;) {
      const Axis& axis = study_.matrix[a];
      c.original[axis.name] = axis.values[i % axis.values.size()].value;
      i /= axis.values.size();
    }
    return c;
  }
  // Adds to `c` the keys of every include entry that does not contradict it (later
  // entries win), marking in `used` (when given) the entries that extended it.
  void Extend(Combo* c, std::vector<bool>* used) const {
    for (size_t j = 0; j < include_.size(); ++j) {
      bool compatible = true;
      for (const auto& [k, v] : include_[j].items()) {
        if (c->original.contains(k) && c->original[k] != v) compatible = false;
      }
      if (!compatible) continue;
      for (const auto& [k, v] : include_[j].items()) {
        if (!c->original.contains(k)) c->added[k] = v;
      }
      if (used) (*used)[j] = true;
    }
  }
  // Combination number `n` as it was streamed.
  Combo At(size_t n) const {
    if (n >= product_) return IncludeOnly(n - product_);
    Combo c = Original(n);
    Extend(&c, nullptr);
    return c;
  }
  Combo IncludeOnly(size_t j) const {
    Combo c;
    c.added = include_[j];
    c.origin = study_.include[j].pos;
    return c;
  }

 private:
  const StudySpec& study_;
  std::vector<nlohmann::json> exclude_, include_;
  size_t product_ = 0;
};

// Hands each of the study's combinations to `each` with its number (StudyCombos) in
// order, leaving out those an `exclude` entry matches (kept in es->excluded); an exclude
// entry that matches nothing, or an include entry that extends nothing, is a warning (the
// latter becomes a cell of its own). Returns how many were handed over.
size_t StreamCombos(const Spec& spec, const StudySpec& study, const std::string& where,
                    const StudyCombos& combos, ExpandedStudy* es,
                    const std::function<void(size_t, const Combo&)>& each) {
  std::vector<bool> exclude_used(combos.exclude().size(), false);
  std::vector<bool> include_used(combos.include().size(), false);
  size_t handed = 0;
  for (size_t i = 0; i < combos.product(); ++i) {
    Combo c = combos.Original(i);
    bool drop = false;
    for (size_t j = 0; j < combos.exclude().size(); ++j) {
      if (Matches(c.original, combos.exclude()[j])) drop = exclude_used[j] = true;
    }
    if (drop) {
      es->excluded.push_back(std::move(c.original));
      continue;
    }
    combos.Extend(&c, &include_used);
    each(i, c);
    ++handed;
  }
  for (size_t j = 0; j < exclude_used.size(); ++j) {
    if (exclude_used[j]) continue;
    es->warnings.push_back({spec.path, study.exclude[j].pos,
                            where + ".exclude[" + std::to_string(j) + "]",
                            "matches no cell of the matrix: " +
                                DescribeCombination(combos.exclude()[j]) + " excludes nothing"});
  }
  for (size_t j = 0; j < include_used.size(); ++j) {
    if (include_used[j]) continue;
    if (!study.matrix.empty()) {
      es->warnings.push_back({spec.path, study.include[j].pos,
                              where + ".include[" + std::to_string(j) + "]",
                              "matches no cell of the matrix: " +
                                  DescribeCombination(combos.include()[j]) +
                                  " is added as a cell of its own"});
    }
    each(combos.product() + j, combos.IncludeOnly(j));
    ++handed;
  }
  return handed;
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

// Resolves each combination into its cell and hands it to `each`; two that resolve to
// one configuration are an error. Only a 64-bit hash of each identity is kept (issue 18:
// not the configurations); an equal hash is checked against the earlier cell, built again.
class CellResolver {
 public:
  CellResolver(const Spec& spec, const StudySpec& study, const std::string& where,
               const nlohmann::json& base, const StudyCombos& combos,
               const std::function<void(Cell&&)>& each, std::vector<SpecError>* errors)
      : spec_(spec), where_(where), base_(base), settings_(ToJson(study.settings)),
        combos_(combos), each_(each), errors_(errors) {}

  void operator()(size_t number, const Combo& c) {
    Cell cell = ResolveCell(base_, settings_, c);
    const size_t hash = std::hash<std::string>{}(cell.identity);
    for (auto [it, end] = seen_.equal_range(hash); it != end; ++it) {
      Cell first = ResolveCell(base_, settings_, combos_.At(it->second));
      if (first.identity != cell.identity) continue;
      errors_->push_back({spec_.path, cell.origin, where_,
                          "duplicate cell: " + DescribeCombination(cell.combination) +
                              " resolves to the same configuration as " +
                              DescribeCombination(first.combination)});
      return;
    }
    seen_.emplace(hash, number);
    each_(std::move(cell));
  }

 private:
  const Spec& spec_;
  const std::string& where_;
  const nlohmann::json& base_;
  const nlohmann::json settings_;
  const StudyCombos& combos_;
  const std::function<void(Cell&&)>& each_;
  std::vector<SpecError>* errors_;
  std::unordered_multimap<size_t, size_t> seen_;  // hash of the identity -> number
};

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
  const StudyCombos combos(study);
  CellResolver resolve(spec, study, where, base, combos, each, errors);
  size_t n = StreamCombos(spec, study, where, combos, es,
                          [&resolve](size_t number, const Combo& c) { resolve(number, c); });
  if (n == 0) {  // (a study without cells has no duplicates: the errors keep their order)
    errors->push_back({spec.path, study.pos, where,
                       study.exclude.empty() ? "empty matrix: the study has no cells"
                                             : "exclude removes every cell of the matrix"});
  }
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
