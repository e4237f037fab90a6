#include "report/pairing.h"

#include <algorithm>
#include <map>

#include "report/cell_label.h"

namespace orch::report {

std::optional<KeyPairing> PairOnKey(const std::vector<Cell>& cells, const PairingOptions& opts) {
  std::vector<const Cell*> pointers;
  for (const Cell& c : cells) pointers.push_back(&c);
  return PairOnKey(pointers, opts);
}

std::optional<KeyPairing> PairOnKey(const std::vector<const Cell*>& cells,
                                    const PairingOptions& opts) {
  KeyPairing out;
  out.key = opts.key;
  std::vector<const Cell*> carrying;
  for (const Cell* c : cells) {
    const std::optional<std::string_view> v = c->config.fields.Find(opts.key);
    if (!v) continue;
    carrying.push_back(c);
    if (std::find(out.values.begin(), out.values.end(), *v) == out.values.end())
      out.values.push_back(std::string(*v));
  }
  if (out.values.size() < 2) return std::nullopt;
  out.reference_value =
      std::find(out.values.begin(), out.values.end(), opts.reference_value) != out.values.end()
          ? opts.reference_value
          : out.values.front();

  // Cells match when their configs agree once the key and the policy keys are dropped.
  std::vector<std::string> ignored = opts.ignored_keys;
  ignored.push_back(opts.key);
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Cell*>> groups;
  for (const Cell* c : carrying) {
    const std::string join = JoinConfig(c->config, ignored);
    if (!groups.count(join)) order.push_back(join);
    groups[join].push_back(c);
  }
  // Labels name what varies among the paired cells apart from the key itself.
  std::vector<Cell> for_labels;
  for (const Cell* c : carrying) for_labels.push_back(*c);
  std::vector<std::string> varying = VaryingFields(for_labels);
  varying.erase(std::remove_if(varying.begin(), varying.end(),
                               [&](const std::string& f) {
                                 return std::find(ignored.begin(), ignored.end(), f) !=
                                        ignored.end();
                               }),
                varying.end());

  for (const std::string& join : order) {
    const std::vector<const Cell*>& group = groups[join];
    const Cell* reference = nullptr;
    for (const Cell* c : group) {
      if (c->config.fields.Value(opts.key) == out.reference_value) {
        reference = c;
        break;
      }
    }
    for (const Cell* c : group) {
      if (c == reference) continue;
      if (reference == nullptr) {
        out.unpaired.push_back({*c, "no cell with " + opts.key + "=" + out.reference_value +
                                        " has the same configuration"});
      } else {
        out.pairs.push_back(ContrastCells(CellLabel(*c, varying), *reference, *c, opts.contrast));
      }
    }
    if (reference != nullptr && group.size() == 1) {
      out.unpaired.push_back(
          {*reference, "no cell with another " + opts.key + " has the same configuration"});
    }
  }
  return out;
}

}  // namespace orch::report
