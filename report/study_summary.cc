#include "report/study_summary.h"

#include <algorithm>

#include "report/cell_label.h"

namespace orch::report {
namespace {

std::optional<double> MedianOf(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool Unfinished(const Cell& c) { return c.outcome == "pending" || c.outcome == "running"; }

// Groups the done cells by their values of `axes`, in first-seen order.
std::vector<CollapsedMap::Group> GroupBy(const Study& s, const std::vector<std::string>& axes) {
  std::vector<CollapsedMap::Group> groups;
  std::map<std::vector<std::string>, size_t> at;
  for (const Cell& c : s.cells) {
    if (Unfinished(c)) continue;
    std::vector<std::string> values;
    for (const std::string& a : axes) values.push_back(ConfigField(c.config, a));
    auto [it, fresh] = at.emplace(values, groups.size());
    if (fresh) groups.push_back({values, 0, 0, {}});
    CollapsedMap::Group& g = groups[it->second];
    ++g.cells;
    if (!c.ok()) {
      ++g.failed;
      ++g.classes[c.outcome];
    }
  }
  return groups;
}

int Mixed(const std::vector<CollapsedMap::Group>& groups) {
  int n = 0;
  for (const auto& g : groups) n += std::min(g.failed, g.cells - g.failed);
  return n;
}

// How badly `groups` explain the failures: the cells in groups that mix ok and failed
// (the minority of each), plus one per group with a failure, so that a finer grid must
// pay for itself (a pair of axes whose every group is one cell explains nothing).
int Cost(const std::vector<CollapsedMap::Group>& groups) {
  int n = Mixed(groups);
  for (const auto& g : groups) n += g.failed > 0;
  return n;
}

}  // namespace

Prose FirstSpans(const Prose& prose, size_t n) {
  Prose out;
  for (size_t i = 0; i < n && i < prose.spans().size(); ++i) {
    const Span& s = prose.spans()[i];
    switch (s.kind) {
      case SpanKind::kText:
        out.Text(s.text);
        break;
      case SpanKind::kUserText:
        out.User(s.text);
        break;
      case SpanKind::kCode:
        out.Code(s.text);
        break;
      case SpanKind::kKey:
        out.Key(s.text);
        break;
    }
  }
  return out;
}

bool IsBigStudy(const Study& study) { return study.cells.size() > kBigStudyCells; }

bool HasBigStudy(const ReportModel& model) {
  return std::any_of(model.studies.begin(), model.studies.end(), IsBigStudy);
}

StudySummary SummarizeStudy(const Study& s, size_t ranked) {
  StudySummary out;
  for (const std::string& axis : s.varying) {
    std::vector<MarginalRow> rows;
    std::map<std::string, size_t> at;
    std::vector<std::vector<double>> tpots, ppls;
    for (const Cell& c : s.cells) {
      const std::string v = ConfigField(c.config, axis);
      auto [it, fresh] = at.emplace(v, rows.size());
      if (fresh) {
        rows.push_back({axis, v});
        tpots.emplace_back();
        ppls.emplace_back();
      }
      MarginalRow& r = rows[it->second];
      ++r.cells;
      if (c.ok()) {
        ++r.ok;
        if (c.tpot) tpots[it->second].push_back(c.tpot->median);
        if (c.ppl) ppls[it->second].push_back(*c.ppl);
      } else if (Unfinished(c)) {
        ++r.unfinished;
      } else {
        ++r.failed;
      }
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].tpot_median = MedianOf(tpots[i]);
      rows[i].ppl_median = MedianOf(ppls[i]);
      out.marginals.push_back(rows[i]);
    }
  }
  std::vector<RankedCell> measured;
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const Cell& c = s.cells[i];
    if (c.ok()) {
      ++out.ok;
      if (c.tpot) measured.push_back({i, c.tpot->median});
    } else if (Unfinished(c)) {
      ++out.unfinished;
    } else {
      ++out.failed;
      ++out.failures[c.outcome];
    }
  }
  std::stable_sort(measured.begin(), measured.end(),
                   [](const RankedCell& a, const RankedCell& b) { return a.tpot < b.tpot; });
  for (size_t i = 0; i < measured.size() && i < ranked; ++i) out.best.push_back(measured[i]);
  for (size_t i = 0; i < measured.size() && i < ranked; ++i)
    out.worst.push_back(measured[measured.size() - 1 - i]);
  if (out.failed == 0) return out;
  // The axes that explain the failures: the one axis or pair of axes of least Cost
  // (ties: fewer axes, then spec order).
  std::optional<std::pair<int, std::vector<std::string>>> best;
  auto consider = [&](std::vector<std::string> axes) {
    const int cost = Cost(GroupBy(s, axes));
    if (!best || cost < best->first) best = {{cost, std::move(axes)}};
  };
  for (const std::string& a : s.varying) consider({a});
  for (size_t i = 0; i < s.varying.size(); ++i) {
    for (size_t j = i + 1; j < s.varying.size(); ++j) consider({s.varying[i], s.varying[j]});
  }
  if (best) {
    out.map.axes = best->second;
    out.map.groups = GroupBy(s, best->second);
    out.map.unexplained = Mixed(out.map.groups);
  }
  return out;
}

}  // namespace orch::report
