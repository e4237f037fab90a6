// Figures of the report as data plus one layout: a dot plot per study for TPOT (median
// with its 95% CI whiskers, baseline as a dashed line) and one for PPL (grouped by
// window). Cells without a value are drawn as a text row ("oom", "nan"), never as a
// number. DrawDotPlot places everything on a Canvas; svg_figures and pdf_figures turn
// that into files. Deterministic; pure apart from the Canvas it is given.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "report/canvas.h"
#include "report/model.h"

namespace orch::report {

struct DotRow {
  std::string label;
  std::optional<double> value;
  std::optional<Interval> ci;
  std::string note;        // shown instead of a point when there is no value
  std::string value_text;  // printed at the right, with the key
  std::string short_key;
  bool baseline = false;
};

struct DotPlot {
  std::string title;
  std::string x_label;
  std::vector<DotRow> rows;
  std::optional<double> reference;  // the baseline's value, drawn dashed
  bool log_x = false;
};

// A big study (study_summary.h) plots only the baseline and its kBigPlotRanked cells
// at each end: TPOT the fastest and slowest, PPL the lowest and highest.
inline constexpr size_t kBigPlotRanked = 10;
DotPlot TpotPlot(const Study& study);
DotPlot PplPlot(const Study& study);

struct FigureSize {
  double width = 0, height = 0;
};
FigureSize PlotSize(const DotPlot& plot);
void DrawDotPlot(const DotPlot& plot, Canvas& canvas);

// "Nice" axis ticks (1, 2, 5 x 10^k steps; decades on a log axis) covering [lo, hi].
std::vector<double> AxisTicks(double lo, double hi, bool log_scale);

}  // namespace orch::report

namespace orch::report {

// File stems of a study's figures under figures/ ("tpot-A", "ppl-A", "map-A"): the study id made
// file-name safe, with the study's position appended when two ids collide that way.
struct FigureNames {
  std::string tpot, ppl, map;
};
std::vector<FigureNames> FigureNamesFor(const ReportModel& model);

}  // namespace orch::report
