#include "report/compare.h"

#include <algorithm>
#include <map>
#include <set>

#include "report/cell_label.h"
#include "report/facts.h"

namespace orch::report {
namespace {

// Each trial of a sweep once, in report order.
std::vector<Cell> UniqueCells(const ReportModel& model) {
  std::vector<Cell> out;
  std::set<std::string> seen;
  for (const Study& s : model.studies) {
    for (const Cell& c : s.cells) {
      if (seen.insert(c.key).second) out.push_back(c);
    }
  }
  return out;
}

StatusOr<ReportModel> Model(const SweepSnapshot& snap, const CompareOptions& opts) {
  FactsOptions f;
  f.ppl_tolerance = opts.contrast.ppl_tolerance;
  f.min_effect = opts.contrast.min_effect;
  f.intervals = opts.intervals;
  return BuildModel(snap, f);
}

}  // namespace

StatusOr<SweepComparison> CompareSweeps(const SweepSnapshot& first, const std::string& first_name,
                                        const SweepSnapshot& second, const std::string& second_name,
                                        const CompareOptions& opts) {
  StatusOr<ReportModel> a = Model(first, opts);
  if (!a.ok()) return a.status().WithContext(first_name);
  StatusOr<ReportModel> b = Model(second, opts);
  if (!b.ok()) return b.status().WithContext(second_name);

  SweepComparison out;
  out.first_name = first_name;
  out.second_name = second_name;
  out.min_effect = opts.contrast.min_effect;
  out.ppl_tolerance = opts.contrast.ppl_tolerance;
  out.first_hardware = a->hardware;
  out.second_hardware = b->hardware;
  std::set<std::string> ignored(ExecutionPolicyKeys().begin(), ExecutionPolicyKeys().end());
  ignored.insert(opts.ignored_keys.begin(), opts.ignored_keys.end());
  out.ignored_keys.assign(ignored.begin(), ignored.end());

  const std::vector<Cell> cells_a = UniqueCells(*a), cells_b = UniqueCells(*b);
  // A named key that no cell has is a typo, not a wish: say so.
  for (const std::string& k : opts.ignored_keys) {
    auto has = [&](const std::vector<Cell>& cells) {
      return std::any_of(cells.begin(), cells.end(),
                         [&](const Cell& c) { return c.config.fields.Has(k); });
    };
    if (!has(cells_a) && !has(cells_b)) {
      return Status::Error("--ignore " + k + ": no cell of " + first_name + " or " + second_name +
                           " has the config key '" + k + "'");
    }
  }
  std::map<std::string, std::vector<size_t>> by_join_a, by_join_b;
  for (size_t i = 0; i < cells_a.size(); ++i)
    by_join_a[JoinConfig(cells_a[i].config, out.ignored_keys)].push_back(i);
  for (size_t i = 0; i < cells_b.size(); ++i)
    by_join_b[JoinConfig(cells_b[i].config, out.ignored_keys)].push_back(i);

  // Labels name the fields that vary over the joined cells of the first sweep.
  std::vector<Cell> joined_a;
  for (const Cell& c : cells_a) {
    const std::string join = JoinConfig(c.config, out.ignored_keys);
    if (by_join_a[join].size() == 1 && by_join_b.count(join) && by_join_b[join].size() == 1)
      joined_a.push_back(c);
  }
  std::vector<std::string> varying = VaryingFields(joined_a);
  varying.erase(std::remove_if(varying.begin(), varying.end(),
                               [&](const std::string& f) { return ignored.count(f) > 0; }),
                varying.end());

  auto ambiguous = [](size_t n, const std::string& side) {
    return std::to_string(n) + " cells of the " + side +
           " sweep share this configuration once the ignored keys are dropped: "
           "ignore fewer keys";
  };
  for (const Cell& c : cells_a) {
    const std::string join = JoinConfig(c.config, out.ignored_keys);
    const size_t na = by_join_a[join].size();
    auto it = by_join_b.find(join);
    if (na > 1) {
      out.only_first.push_back({c, ambiguous(na, "first")});
    } else if (it == by_join_b.end()) {
      out.only_first.push_back({c, "no cell of the second sweep has this configuration"});
    } else if (it->second.size() > 1) {
      out.only_first.push_back({c, ambiguous(it->second.size(), "second")});
    } else {
      CellPair p =
          ContrastCells(CellLabel(c, varying), c, cells_b[it->second.front()], opts.contrast);
      out.differing_outcomes += p.outcomes_differ();
      out.slower += p.speed == SpeedVerdict::kSlower;
      out.faster += p.speed == SpeedVerdict::kFaster;
      out.no_difference += p.speed == SpeedVerdict::kNoDifference;
      out.not_compared +=
          p.speed == SpeedVerdict::kUnavailable || p.speed == SpeedVerdict::kWithinRunOnly;
      out.joined.push_back(std::move(p));
    }
  }
  for (const Cell& c : cells_b) {
    const std::string join = JoinConfig(c.config, out.ignored_keys);
    const size_t nb = by_join_b[join].size();
    auto it = by_join_a.find(join);
    if (nb > 1) {
      out.only_second.push_back({c, ambiguous(nb, "second")});
    } else if (it == by_join_a.end()) {
      out.only_second.push_back({c, "no cell of the first sweep has this configuration"});
    } else if (it->second.size() > 1) {
      out.only_second.push_back({c, ambiguous(it->second.size(), "first")});
    }
  }
  return out;
}

}  // namespace orch::report
