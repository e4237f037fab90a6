#include "report/cell_label.h"

#include <algorithm>
#include <set>

#include "report/number_format.h"

namespace orch::report {
namespace {

// Fields shown as a cell's configuration, in the order labels and tables use.
const std::vector<std::string>& ShownFields() {
  static const std::vector<std::string> kFields = {"quant", "scope",   "window", "n_sink",
                                                   "dtype", "compile", "mode",   "tokens",
                                                   "model", "dataset", "device"};
  return kFields;
}

}  // namespace

std::string ConfigField(const CellConfig& c, const std::string& f) {
  if (f == "quant") return c.quant;
  if (f == "scope") return c.scope;
  if (f == "window") return c.window;
  if (f == "n_sink") return std::to_string(c.n_sink);
  if (f == "dtype") return c.dtype;
  if (f == "compile") return c.compile;
  if (f == "mode") return c.mode;
  if (f == "tokens") return std::to_string(c.tokens);
  if (f == "model") return c.model;
  if (f == "dataset") return c.dataset;
  if (f == "device") return c.device;
  return std::string(c.fields.Value(f));
}

std::vector<std::pair<std::string, std::string>> FixedFields(const Study& study) {
  std::vector<std::pair<std::string, std::string>> out;
  if (study.cells.empty()) return out;
  for (const std::string& f : ShownFields()) {
    if (std::find(study.varying.begin(), study.varying.end(), f) != study.varying.end()) continue;
    std::string value = ConfigField(study.cells.front().config, f);
    if (value.empty()) continue;  // not in the config (no model for a fake worker)
    out.emplace_back(f, std::move(value));
  }
  return out;
}

std::vector<std::string> VaryingFields(const std::vector<Cell>& cells) {
  // The known fields in display order, then any other key (matrix extras such as a
  // worker option) in sorted order: a label must tell every two cells of a study apart.
  std::vector<std::string> candidates = ShownFields();
  std::set<std::string, std::less<>> extra;
  const ConfigFields* last_keys = nullptr;  // most cells have the keys of the one before
  for (const Cell& c : cells) {
    const ConfigFields& fields = c.config.fields;
    if (last_keys != nullptr && last_keys->size() == fields.size() &&
        std::equal(fields.begin(), fields.end(), last_keys->begin(),
                   [](const auto& a, const auto& b) { return a.first == b.first; })) {
      continue;
    }
    last_keys = &fields;
    for (const auto& [k, v] : fields) {
      if (std::find(candidates.begin(), candidates.end(), k) == candidates.end() &&
          extra.find(k) == extra.end()) {
        extra.emplace(k);
      }
    }
  }
  candidates.insert(candidates.end(), extra.begin(), extra.end());
  std::vector<std::string> out;
  for (const std::string& f : candidates) {
    // Varies when any cell's value differs from the first's.
    const std::string first = cells.empty() ? "" : ConfigField(cells.front().config, f);
    for (const Cell& c : cells) {
      if (ConfigField(c.config, f) != first) {
        out.push_back(f);
        break;
      }
    }
  }
  return out;
}

std::string CellLabel(const Cell& cell, const std::vector<std::string>& varying) {
  return CellLabelProse(cell, varying).PlainText();
}

Prose CellLabelProse(const Cell& cell, const std::vector<std::string>& varying) {
  Prose p;
  p.Code(cell.config.quant.empty() ? "?" : cell.config.quant);
  std::string rest;
  for (const std::string& f : varying) {
    if (f == "quant") continue;
    rest += " " + f + "=" + ConfigField(cell.config, f);
  }
  if (!rest.empty()) p.User(rest);
  return p;
}

std::string TableVariantExtras(const Cell& cell, const std::vector<std::string>& varying) {
  std::string rest;
  for (const std::string& f : varying) {
    if (f == "quant" || f == "scope" || f == "window" || f == "dtype" || f == "compile") continue;
    rest += (rest.empty() ? "" : " ") + f + "=" + ConfigField(cell.config, f);
  }
  return rest;
}

TableColumns CellTableColumns(const Study& s, size_t i, const std::string& missing) {
  auto ci = [](const Interval& v, std::string (*fmt)(double)) {
    return "[" + fmt(v.lo) + ", " + fmt(v.hi) + "]";
  };
  const Cell& c = s.cells[i];
  const Comparison& cmp = s.comparisons[i];
  TableColumns t{missing, missing, missing, missing};
  if (!c.ok()) return t;
  if (c.ppl) t.ppl = FormatPpl(*c.ppl);
  if (c.tpot) t.tpot = FormatMs(c.tpot->median) + " " + ci(c.tpot->median_ci, FormatMs);
  if (s.baseline && *s.baseline == i) {
    t.ratio = "baseline";
  } else if (cmp.ratio) {
    t.ratio = FormatRatio(*cmp.ratio) + " " + ci(cmp.ratio_ci, FormatRatio);
  } else if (!cmp.unavailable_why.empty()) {
    t.ratio = "not compared";
  }
  if (c.peak_memory_bytes) t.memory = FormatBytes(*c.peak_memory_bytes);
  return t;
}

}  // namespace orch::report
