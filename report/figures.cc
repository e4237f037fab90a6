#include "report/figures.h"

#include <algorithm>
#include <cmath>

#include "report/cell_label.h"
#include "report/number_format.h"
#include "report/study_summary.h"

namespace orch::report {
namespace {

constexpr double kWidth = 640;
constexpr double kRowHeight = 20;
constexpr double kTop = 34;     // title
constexpr double kBottom = 44;  // axis labels and x label
constexpr double kLabelSize = 10;
constexpr double kKeyColumn = 150;  // value and key at the right
constexpr size_t kMaxLabel = 48;
const Color kInk{0, 0, 0};
const Color kGrid{220, 220, 220};
const Color kGrey{110, 110, 110};
const Color kPoint{31, 87, 163};
const Color kBase{200, 90, 20};
const Color kFail{170, 30, 30};

std::string Clip(std::string s) {
  if (s.size() <= kMaxLabel) return s;
  size_t cut = kMaxLabel - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

DotRow RowFor(const Study& s, size_t i) {
  const Cell& c = s.cells[i];
  DotRow r;
  r.label = Clip(CellLabel(c, s.varying));
  r.short_key = c.short_key;
  r.baseline = s.baseline && *s.baseline == i;
  if (!c.ok()) r.note = c.outcome;
  return r;
}

double LeftMargin(const DotPlot& plot) {
  double w = 0;
  for (const DotRow& r : plot.rows) {
    w = std::max(w, HelveticaWidth(r.label, kLabelSize) * (r.baseline ? 1.1 : 1.0));  // bold
  }
  // SVG viewers substitute their sans-serif (DejaVu Sans is ~15% wider than Helvetica).
  return std::clamp(w * 1.2 + 16, 80.0, 320.0);
}

struct Scale {
  double lo, hi, x0, x1;
  bool log;
  double operator()(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return x0 + t * (x1 - x0);
  }
};

// As many decimals as the tick step needs (step 0.02 -> 2), so neighbours never print
// alike; log-axis ticks (1, 2, 5 x 10^k) need the decimals of their own value.
std::string TickText(double v, double step) {
  const double unit = step > 0 ? step : std::fabs(v);
  if (!(unit > 0)) return FormatFixed(v, 0);
  const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(unit) + 1e-9)), 0, 6);
  return FormatFixed(v, decimals);
}

// The cells a study's plot shows: every cell in spec order; in a big study
// (study_summary.h) the kBigPlotRanked cells with the lowest and the highest `value`
// and the baseline, ordered by value (a plot of every cell would be tens of thousands
// of pixels tall; report.html's table holds them all).
template <typename Value>
std::vector<size_t> BigPlotCells(const Study& s, Value value) {
  std::vector<size_t> all;
  if (!IsBigStudy(s)) {
    for (size_t i = 0; i < s.cells.size(); ++i) all.push_back(i);
    return all;
  }
  std::vector<std::pair<double, size_t>> ranked;
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const std::optional<double> v = value(s.cells[i]);
    if (v && std::isfinite(*v)) ranked.push_back({*v, i});
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::pair<double, size_t>> keep;
  for (size_t r = 0; r < ranked.size(); ++r) {
    const bool end = r < kBigPlotRanked || r + kBigPlotRanked >= ranked.size();
    if (end || (s.baseline && ranked[r].second == *s.baseline)) keep.push_back(ranked[r]);
  }
  if (s.baseline && std::none_of(keep.begin(), keep.end(), [&](const auto& k) {
        return k.second == *s.baseline;
      })) {
    keep.insert(keep.begin(), {0, *s.baseline});  // no value: drawn first, as a note
  }
  for (const auto& [v, i] : keep) all.push_back(i);
  return all;
}

std::string BigPlotTitle(const std::string& what, const char* low, const char* high,
                         const Study& s) {
  return what + ", study " + s.id + ": the " + std::to_string(kBigPlotRanked) + " " + low +
         " and " + std::to_string(kBigPlotRanked) + " " + high + " of " +
         std::to_string(s.cells.size()) + " cells";
}

}  // namespace

DotPlot TpotPlot(const Study& s) {
  DotPlot p;
  p.title = "TPOT per variant, study " + s.id;
  p.x_label = "time per output token, median with 95% CI (ms)";
  const std::vector<size_t> shown = BigPlotCells(s, [](const Cell& c) -> std::optional<double> {
    if (!c.ok() || !c.tpot) return std::nullopt;
    return c.tpot->median;
  });
  if (IsBigStudy(s)) p.title = BigPlotTitle("TPOT", "fastest", "slowest", s);
  for (size_t i : shown) {
    DotRow r = RowFor(s, i);
    const Cell& c = s.cells[i];
    if (c.ok()) {
      if (c.tpot) {
        r.value = c.tpot->median;
        // An unbounded interval (fewer than 6 tokens at 95%, stats.h) draws no bar.
        if (std::isfinite(c.tpot->median_ci.hi)) r.ci = c.tpot->median_ci;
        r.value_text = FormatMs(c.tpot->median) + " ms";
        if (r.baseline) p.reference = c.tpot->median;
      } else {
        r.note = "no samples";
      }
    }
    p.rows.push_back(std::move(r));
  }
  return p;
}

DotPlot PplPlot(const Study& s) {
  DotPlot p;
  p.title = "PPL per variant and window, study " + s.id;
  p.x_label = "perplexity";
  const std::vector<size_t> shown = BigPlotCells(s, [](const Cell& c) -> std::optional<double> {
    if (!c.ok()) return std::nullopt;
    return c.ppl;
  });
  // Grouped by window (first-seen order), spec order within a window; a big study's
  // cells in PPL order.
  std::vector<std::string> windows;
  const bool by_window = !IsBigStudy(s);
  if (!by_window) {
    p.title = BigPlotTitle("PPL", "lowest", "highest", s);
    windows.push_back("");
  } else {
    for (const Cell& c : s.cells) {
      if (std::find(windows.begin(), windows.end(), c.config.window) == windows.end()) {
        windows.push_back(c.config.window);
      }
    }
  }
  double lo = INFINITY, hi = 0;
  for (const std::string& w : windows) {
    for (size_t i : shown) {
      const Cell& c = s.cells[i];
      if (by_window && c.config.window != w) continue;
      DotRow r = RowFor(s, i);
      if (c.ok()) {
        if (c.ppl) {
          r.value = *c.ppl;
          r.value_text = FormatPpl(*c.ppl);
          lo = std::min(lo, *c.ppl);
          hi = std::max(hi, *c.ppl);
          if (r.baseline) p.reference = *c.ppl;
        } else {
          r.note = "no PPL";
        }
      }
      p.rows.push_back(std::move(r));
    }
  }
  // A broken variant can sit orders of magnitude above the rest: a log axis keeps both.
  p.log_x = lo > 0 && hi / lo > 20;
  if (p.log_x) p.x_label += " (log scale)";
  return p;
}

std::vector<double> AxisTicks(double lo, double hi, bool log_scale) {
  std::vector<double> ticks;
  if (!(hi > lo)) return {lo};
  if (log_scale) {
    const int e0 = static_cast<int>(std::floor(std::log10(lo)));
    const int e1 = static_cast<int>(std::ceil(std::log10(hi)));
    const bool sparse = e1 - e0 > 3;
    for (int e = e0; e <= e1; ++e) {
      for (int m : {1, 2, 5}) {
        if (sparse && m != 1) continue;
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
      }
    }
    return ticks;
  }
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return ticks;
}

FigureSize PlotSize(const DotPlot& plot) {
  return {kWidth, kTop + kRowHeight * std::max<size_t>(plot.rows.size(), 1) + kBottom};
}

void DrawDotPlot(const DotPlot& plot, Canvas& canvas) {
  const FigureSize size = PlotSize(plot);
  const double left = LeftMargin(plot);
  const double right = kWidth - kKeyColumn;
  const double plot_top = kTop;
  const double plot_bottom = size.height - kBottom;

  double lo = INFINITY, hi = -INFINITY;
  for (const DotRow& r : plot.rows) {
    if (!r.value) continue;
    lo = std::min({lo, *r.value, r.ci ? r.ci->lo : *r.value});
    hi = std::max({hi, *r.value, r.ci ? r.ci->hi : *r.value});
  }
  canvas.Text(8, 18, plot.title, {12, Anchor::kStart, true, kInk});
  if (!std::isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (plot.log_x) {
    lo /= 1.15;
    hi *= 1.15;
  } else {
    const double pad = hi > lo ? (hi - lo) * 0.08 : std::max(std::fabs(hi) * 0.05, 0.5);
    const bool non_negative = lo >= 0;  // latencies and PPL: the axis stays at or above 0
    lo -= pad;
    hi += pad;
    if (non_negative) lo = std::max(lo, 0.0);
  }
  const Scale x{lo, hi, left, right - 10, plot.log_x};

  // Grid and axis.
  const std::vector<double> ticks = AxisTicks(lo, hi, plot.log_x);
  const double step = !plot.log_x && ticks.size() > 1 ? ticks[1] - ticks[0] : 0;
  for (double t : ticks) {
    const double px = x(t);
    canvas.Line(px, plot_top, px, plot_bottom, kGrid, 0.6);
    canvas.Line(px, plot_bottom, px, plot_bottom + 4, kInk, 0.8);
    canvas.Text(px, plot_bottom + 15, TickText(t, step), {9, Anchor::kMiddle, false, kInk});
  }
  canvas.Line(left, plot_bottom, right - 10, plot_bottom, kInk, 0.8);
  canvas.Text((left + right - 10) / 2, plot_bottom + 32, plot.x_label,
              {10, Anchor::kMiddle, false, kInk});
  if (plot.reference) {
    canvas.Line(x(*plot.reference), plot_top - 4, x(*plot.reference), plot_bottom, kBase, 1.0,
                true);
  }

  for (size_t i = 0; i < plot.rows.size(); ++i) {
    const DotRow& r = plot.rows[i];
    const double cy = plot_top + kRowHeight * (static_cast<double>(i) + 0.5);
    canvas.Text(left - 8, cy + 3.5, r.label, {kLabelSize, Anchor::kEnd, r.baseline, kInk});
    std::string right_text = r.short_key;
    if (r.value) {
      const Color color = r.baseline ? kBase : kPoint;
      if (r.ci) {
        const double a = x(r.ci->lo), b = x(r.ci->hi);
        canvas.Line(a, cy, b, cy, color, 1.2);
        canvas.Line(a, cy - 4, a, cy + 4, color, 1.2);
        canvas.Line(b, cy - 4, b, cy + 4, color, 1.2);
      }
      canvas.Circle(x(*r.value), cy, 3.2, color);
      right_text = r.value_text + "  " + r.short_key;
    } else {
      canvas.Text(left + 4, cy + 3.5, r.note, {kLabelSize, Anchor::kStart, true, kFail});
    }
    canvas.Text(right, cy + 3.5, right_text, {8.5, Anchor::kStart, false, kGrey});
  }
}

}  // namespace orch::report

#include <set>

#include "report/text_escape.h"

namespace orch::report {

std::vector<FigureNames> FigureNamesFor(const ReportModel& model) {
  std::vector<FigureNames> out;
  std::set<std::string> used;
  for (size_t i = 0; i < model.studies.size(); ++i) {
    std::string stem = SafeFileStem(model.studies[i].id);
    if (!used.insert(stem).second) {
      stem += "-" + std::to_string(i + 1);
      used.insert(stem);
    }
    out.push_back({"tpot-" + stem, "ppl-" + stem, "map-" + stem});
  }
  return out;
}

}  // namespace orch::report
