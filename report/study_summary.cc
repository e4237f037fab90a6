#include "report/study_summary.h"

#include <algorithm>
#include <cstdint>

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

// A varying axis of the study: its values in first-seen order, and each cell's value as
// an index into them. Read once per axis, so that grouping the cells by one or two axes
// (eleven groupings for four axes) compares integers, not config strings.
struct AxisCodes {
  std::vector<std::string> values;
  std::vector<uint32_t> of_cell;  // parallel to study.cells
};

AxisCodes CodesOf(const Study& s, const std::string& axis) {
  AxisCodes out;
  out.of_cell.reserve(s.cells.size());
  std::map<std::string, uint32_t, std::less<>> at;
  for (const Cell& c : s.cells) {
    std::string v = ConfigField(c.config, axis);
    auto it = at.find(v);
    if (it == at.end()) {
      it = at.emplace(v, static_cast<uint32_t>(out.values.size())).first;
      out.values.push_back(std::move(v));
    }
    out.of_cell.push_back(it->second);
  }
  return out;
}

// Groups the done cells by their values of `axes` (one or two), in first-seen order.
std::vector<CollapsedMap::Group> GroupBy(const Study& s,
                                         const std::vector<const AxisCodes*>& axes) {
  std::vector<CollapsedMap::Group> groups;
  std::map<uint64_t, size_t> at;
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const Cell& c = s.cells[i];
    if (Unfinished(c)) continue;
    uint64_t key = 0;
    for (const AxisCodes* a : axes) key = (key << 32) | a->of_cell[i];
    auto [it, fresh] = at.emplace(key, groups.size());
    if (fresh) {
      std::vector<std::string> values;
      for (const AxisCodes* a : axes) values.push_back(a->values[a->of_cell[i]]);
      groups.push_back({std::move(values), 0, 0, {}});
    }
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

std::shared_ptr<const StudySummary> SummaryOf(const Study& study) {
  if (study.summary) return study.summary;
  return std::make_shared<const StudySummary>(SummarizeStudy(study));
}

StudySummary SummarizeStudy(const Study& s, size_t ranked) {
  StudySummary out;
  std::vector<AxisCodes> codes;
  codes.reserve(s.varying.size());
  for (const std::string& axis : s.varying) codes.push_back(CodesOf(s, axis));
  for (size_t a = 0; a < s.varying.size(); ++a) {
    const std::string& axis = s.varying[a];
    std::vector<MarginalRow> rows;
    for (const std::string& v : codes[a].values) rows.push_back({axis, v});
    std::vector<std::vector<double>> tpots(rows.size()), ppls(rows.size());
    for (size_t i = 0; i < s.cells.size(); ++i) {
      const Cell& c = s.cells[i];
      const uint32_t v = codes[a].of_cell[i];
      MarginalRow& r = rows[v];
      ++r.cells;
      if (c.ok()) {
        ++r.ok;
        if (c.tpot) tpots[v].push_back(c.tpot->median);
        if (c.ppl) ppls[v].push_back(*c.ppl);
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
  std::optional<std::pair<int, std::vector<size_t>>> best;
  auto consider = [&](std::vector<size_t> axes) {
    std::vector<const AxisCodes*> by;
    for (size_t a : axes) by.push_back(&codes[a]);
    const int cost = Cost(GroupBy(s, by));
    if (!best || cost < best->first) best = {{cost, std::move(axes)}};
  };
  for (size_t a = 0; a < s.varying.size(); ++a) consider({a});
  for (size_t i = 0; i < s.varying.size(); ++i) {
    for (size_t j = i + 1; j < s.varying.size(); ++j) consider({i, j});
  }
  if (best) {
    std::vector<const AxisCodes*> by;
    for (size_t a : best->second) {
      out.map.axes.push_back(s.varying[a]);
      by.push_back(&codes[a]);
    }
    out.map.groups = GroupBy(s, by);
    out.map.unexplained = Mixed(out.map.groups);
  }
  return out;
}

}  // namespace orch::report
