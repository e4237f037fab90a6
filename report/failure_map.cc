#include "report/failure_map.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "report/cell_label.h"
#include "report/contrast.h"

namespace orch::report {
namespace {

constexpr char kUnset[] = "(unset)";

bool Varies(const Study& s, const std::string& f) {
  return std::find(s.varying.begin(), s.varying.end(), f) != s.varying.end();
}

std::string Value(const Cell& c, const std::string& field) {
  if (field.empty()) return "all";
  const std::string v = ConfigField(c.config, field);
  return v.empty() ? kUnset : v;
}

bool Numeric(const std::string& v, double* x) {
  if (v.empty()) return false;
  char* end = nullptr;
  *x = std::strtod(v.c_str(), &end);
  return end != nullptr && *end == '\0';
}

// Numbers ascending, then the other values in first-seen (spec) order.
std::vector<std::string> AxisValues(const std::vector<Cell>& cells, const std::string& field) {
  std::vector<std::string> seen;
  for (const Cell& c : cells) {
    const std::string v = Value(c, field);
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  }
  std::vector<std::pair<double, std::string>> numbers;
  std::vector<std::string> others;
  for (const std::string& v : seen) {
    double x = 0;
    if (Numeric(v, &x)) {
      numbers.push_back({x, v});
    } else {
      others.push_back(v);
    }
  }
  std::stable_sort(numbers.begin(), numbers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& n : numbers) out.push_back(n.second);
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

size_t IndexOf(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), x) - v.begin());
}

bool HasOom(const std::vector<MapEntry>& e) {
  return std::any_of(e.begin(), e.end(), [](const MapEntry& m) { return m.outcome == "oom"; });
}

bool AllOk(const std::vector<MapEntry>& e) {
  return !e.empty() &&
         std::all_of(e.begin(), e.end(), [](const MapEntry& m) { return m.outcome == "ok"; });
}

// The outcome that colours a grid cell: oom first (the frontier), then any failure.
std::string Dominant(const std::vector<MapEntry>& e) {
  if (HasOom(e)) return "oom";
  for (const MapEntry& m : e) {
    if (m.outcome != "ok") return m.outcome;
  }
  return e.empty() ? "" : "ok";
}

std::string CellText(const std::vector<MapEntry>& e) {
  if (e.size() == 1) return e.front().outcome;
  std::vector<std::string> distinct;
  for (const MapEntry& m : e) {
    if (std::find(distinct.begin(), distinct.end(), m.outcome) == distinct.end())
      distinct.push_back(m.outcome);
  }
  std::string s;
  for (const std::string& d : distinct) s += (s.empty() ? "" : "/") + d;
  return s;
}

constexpr double kCellH = 30, kTitleH = 22, kHeaderH = 16, kPad = 8, kLegendH = 18;
constexpr double kFont = 9, kKeyFont = 6.5;

std::string ColumnHeader(const FailureMap& m, size_t c) {
  return m.col_axis.empty() ? m.cols[c] : m.col_axis + "=" + m.cols[c];
}

double CellWidth(const FailureMap& m) {
  double w = 64;
  for (size_t c = 0; c < m.cols.size(); ++c)
    w = std::max(w, HelveticaWidth(ColumnHeader(m, c), kFont) + 12);
  for (const auto& row : m.grid) {
    for (const auto& e : row) w = std::max(w, HelveticaWidth(CellText(e), kFont) + 12);
  }
  return w;
}

double LeftMargin(const FailureMap& m) {
  double w = HelveticaWidth(m.row_axis, kFont) + 2 * kPad;
  for (const std::string& r : m.rows) w = std::max(w, HelveticaWidth(r, kFont) + 2 * kPad);
  return w;
}

std::vector<std::string> LegendOutcomes(const FailureMap& m) {
  std::vector<std::string> out;
  for (const auto& row : m.grid) {
    for (const auto& e : row) {
      const std::string d = Dominant(e);
      if (!d.empty() && std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
    }
  }
  return out;
}

}  // namespace

Color OutcomeColor(const std::string& o) {
  if (o == "ok") return {166, 217, 106};
  if (o == "oom") return {215, 48, 39};
  if (o == "nan") return {253, 174, 97};
  if (o == "blocked") return {189, 189, 189};
  if (o == "timeout" || o == "hung" || o == "interrupted") return {191, 129, 45};
  if (o == "pending" || o == "running") return {240, 240, 240};
  return {158, 154, 200};  // crash, cuda_error, error
}

bool WantsFailureMap(const Study& s) {
  return s.cells.size() >= 2 &&
         std::any_of(s.cells.begin(), s.cells.end(), [](const Cell& c) { return !c.ok(); });
}

FailureMap BuildFailureMap(const Study& s, const MapAxes& axes) {
  FailureMap m;
  if (!axes.row.empty()) {
    m.row_axis = axes.row;
    m.col_axis = axes.col;
    m.axes_how = "chosen with --map-axes";
  } else {
    // Execution policy (a per-cell timeout) is no axis of an experiment.
    std::vector<std::string> varying;
    for (const std::string& f : s.varying) {
      const auto& policy = ExecutionPolicyKeys();
      if (std::find(policy.begin(), policy.end(), f) == policy.end()) varying.push_back(f);
    }
    m.row_axis = Varies(s, "quant") || varying.empty() ? "quant" : varying.front();
    if (Varies(s, "window") && m.row_axis != "window") {
      m.col_axis = "window";
    } else {
      for (const std::string& f : varying) {
        if (f != m.row_axis) {
          m.col_axis = f;
          break;
        }
      }
    }
    m.axes_how =
        "default: rows quant (else the first varying field), columns window (else the "
        "next varying field)";
  }
  m.title = "Failure map, study " + s.id + ": " + m.row_axis +
            (m.col_axis.empty() ? "" : " x " + m.col_axis);
  m.rows = AxisValues(s.cells, m.row_axis);
  m.cols = AxisValues(s.cells, m.col_axis);
  m.grid.assign(m.rows.size(), std::vector<std::vector<MapEntry>>(m.cols.size()));
  std::vector<std::string> others;
  for (const std::string& f : s.varying) {
    if (f != m.row_axis && f != m.col_axis) others.push_back(f);
  }
  for (const Cell& c : s.cells) {
    MapEntry e;
    e.outcome = c.outcome;
    e.short_key = c.short_key;
    for (const std::string& f : others) {
      e.extra += (e.extra.empty() ? "" : " ") + f + "=" + ConfigField(c.config, f);
    }
    m.grid[IndexOf(m.rows, Value(c, m.row_axis))][IndexOf(m.cols, Value(c, m.col_axis))].push_back(
        e);
  }
  for (size_t r = 0; r < m.rows.size(); ++r) {
    FailureMap::FrontierRow f;
    f.row = m.rows[r];
    for (size_t c = 0; c < m.cols.size(); ++c) {
      if (HasOom(m.grid[r][c]))
        f.oom.push_back(m.cols[c]);
      else if (AllOk(m.grid[r][c]))
        f.fits.push_back(m.cols[c]);
    }
    if (!f.oom.empty()) m.frontier.push_back(std::move(f));
  }
  return m;
}

FigureSize FailureMapSize(const FailureMap& m) {
  const double w = LeftMargin(m) + CellWidth(m) * static_cast<double>(m.cols.size()) + kPad;
  double legend_w = 0;
  for (const std::string& o : LegendOutcomes(m)) legend_w += 14 + HelveticaWidth(o, kFont) + 10;
  legend_w += HelveticaWidth("thick line: out-of-memory frontier", kFont) + 2 * kPad;
  const double title_w = HelveticaWidth(m.title, 11) + 2 * kPad;
  return {
      std::max({w, legend_w, title_w}),
      kTitleH + kHeaderH + kCellH * static_cast<double>(m.rows.size()) + kPad + kLegendH + kPad};
}

void DrawFailureMap(const FailureMap& m, Canvas& canvas) {
  const Color ink{0, 0, 0}, grey{120, 120, 120}, line{255, 255, 255};
  const double left = LeftMargin(m), cw = CellWidth(m), top = kTitleH + kHeaderH;
  canvas.Text(kPad, 15, m.title, {11, Anchor::kStart, true, ink});
  canvas.Text(left - kPad, top - 4, m.row_axis, {kFont, Anchor::kEnd, true, grey});
  for (size_t c = 0; c < m.cols.size(); ++c) {
    canvas.Text(left + cw * (c + 0.5), top - 4, ColumnHeader(m, c),
                {kFont, Anchor::kMiddle, true, ink});
  }
  for (size_t r = 0; r < m.rows.size(); ++r) {
    const double y = top + kCellH * r;
    canvas.Text(left - kPad, y + kCellH / 2 + 3, m.rows[r], {kFont, Anchor::kEnd, false, ink});
    for (size_t c = 0; c < m.cols.size(); ++c) {
      const std::vector<MapEntry>& e = m.grid[r][c];
      const double x = left + cw * c;
      if (e.empty()) {
        canvas.Rect(x, y, cw, kCellH, {250, 250, 250});
        canvas.Text(x + cw / 2, y + kCellH / 2 + 3, "no cell",
                    {kKeyFont, Anchor::kMiddle, false, grey});
        continue;
      }
      const std::string d = Dominant(e);
      canvas.Rect(x, y, cw, kCellH, OutcomeColor(d));
      const Color text = d == "oom" ? Color{255, 255, 255} : ink;
      canvas.Text(x + cw / 2, y + 13, CellText(e), {kFont, Anchor::kMiddle, d == "oom", text});
      const std::string sub =
          e.size() == 1 ? e.front().short_key : std::to_string(e.size()) + " cells";
      canvas.Text(x + cw / 2, y + 24, sub, {kKeyFont, Anchor::kMiddle, false, text});
    }
  }
  // Grid lines, then the frontier over them: every edge between a cell that ran out of
  // memory and a neighbour that did not.
  const double bottom = top + kCellH * m.rows.size(), right = left + cw * m.cols.size();
  for (size_t c = 1; c < m.cols.size(); ++c)
    canvas.Line(left + cw * c, top, left + cw * c, bottom, line, 1);
  for (size_t r = 1; r < m.rows.size(); ++r)
    canvas.Line(left, top + kCellH * r, right, top + kCellH * r, line, 1);
  auto oom = [&](size_t r, size_t c) { return HasOom(m.grid[r][c]); };
  auto filled = [&](size_t r, size_t c) { return !m.grid[r][c].empty(); };
  for (size_t r = 0; r < m.rows.size(); ++r) {
    for (size_t c = 0; c < m.cols.size(); ++c) {
      const double x = left + cw * c, y = top + kCellH * r;
      if (c + 1 < m.cols.size() && filled(r, c) && filled(r, c + 1) && oom(r, c) != oom(r, c + 1))
        canvas.Line(x + cw, y, x + cw, y + kCellH, ink, 2.5);
      if (r + 1 < m.rows.size() && filled(r, c) && filled(r + 1, c) && oom(r, c) != oom(r + 1, c))
        canvas.Line(x, y + kCellH, x + cw, y + kCellH, ink, 2.5);
    }
  }
  double lx = kPad;
  const double ly = bottom + kPad + 10;
  for (const std::string& o : LegendOutcomes(m)) {
    canvas.Rect(lx, ly - 8, 10, 10, OutcomeColor(o));
    canvas.Text(lx + 14, ly, o, {kFont, Anchor::kStart, false, ink});
    lx += 14 + HelveticaWidth(o, kFont) + 10;
  }
  canvas.Text(lx, ly, "thick line: out-of-memory frontier", {kFont, Anchor::kStart, false, grey});
}

}  // namespace orch::report
