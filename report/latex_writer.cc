#include "report/latex_writer.h"

#include <algorithm>
#include <map>

#include "report/cell_label.h"
#include "report/figures.h"
#include "report/number_format.h"
#include "report/study_summary.h"
#include "report/text_escape.h"

namespace orch::report {
namespace {

std::string Tt(const std::string& s) { return "\\texttt{" + LatexEscape(s) + "}"; }

// Failed or unfinished cells show their outcome as text in the measurement columns.
std::string Missing() { return "---"; }

std::string StudyLabel(const std::string& id) { return "tab:orch-" + SafeFileStem(id); }

// The cells a study's table lists: all of them, or for a big study (study_summary.h)
// the baseline and the fastest and slowest cells, with a caption that says so.
std::vector<size_t> TableCells(const Study& s, const StudySummary* big, std::string* note) {
  std::vector<size_t> rows;
  if (big == nullptr) {
    for (size_t i = 0; i < s.cells.size(); ++i) rows.push_back(i);
    return rows;
  }
  const StudySummary& sum = *big;
  if (s.baseline) rows.push_back(*s.baseline);
  for (const auto* list : {&sum.best, &sum.worst}) {
    for (const RankedCell& r : *list) {
      if (std::find(rows.begin(), rows.end(), r.index) == rows.end()) rows.push_back(r.index);
    }
  }
  *note = "Of its " + std::to_string(s.cells.size()) + " cells (" + std::to_string(sum.ok) +
          " ok, " + std::to_string(sum.failed) + " failed, " + std::to_string(sum.unfinished) +
          " not finished) the table lists the baseline and the " +
          std::to_string(sum.best.size()) + " fastest and " + std::to_string(sum.worst.size()) +
          " slowest by TPOT median; every cell is in report.html and in ";
  return rows;
}

std::string StudyTable(const ReportModel& model, const Study& s, const StudySummary* big) {
  std::string note;
  const std::vector<size_t> rows = TableCells(s, big, &note);
  std::string t;
  t += "\\begin{table*}[tbp]\n\\centering\n\\scriptsize\n\\setlength{\\tabcolsep}{3pt}\n";
  t += "\\caption{Study " + LatexEscape(s.id, ":") + ": " + LatexEscape(OneLine(s.title), ".") +
       ". " + (note.empty() ? "" : LatexEscape(note) + Tt("orch export --format csv") + ". ");
  t += LatexEscape(
      "TPOT: median time per output token (geometric mean of the replicates' medians) with its "
      "95% Student-t CI over the replicates; ");
  if (s.baseline) {
    t += "ratio: TPOT median relative to the baseline " + Tt(s.cells[*s.baseline].short_key) +
         LatexEscape(" (bold), with its 95% Student-t CI", ";");
  } else {
    t += "no baseline, so no ratios";
  }
  t += "; PPL stable means within $\\pm$" + LatexEscape(FormatPercent(model.ppl_tolerance)) +
       " of the baseline. Failed cells show their outcome instead of numbers.}";
  t += "\\label{" + StudyLabel(s.id) + "}\n";
  t += "\\orchfit{\\begin{tabular}{lllllrllrll}\n\\toprule\n";
  t += "Variant & Scope & Window & dtype & Compile & PPL & TPOT [ms] & Ratio & Peak mem. & "
       "Outcome & Trial \\\\\n\\midrule\n";
  for (size_t i : rows) {
    const Cell& c = s.cells[i];
    const Comparison& cmp = s.comparisons[i];
    const bool base = s.baseline && *s.baseline == i;
    std::string variant = Tt(c.config.quant);
    if (base) variant = "\\textbf{" + variant + "}";
    const std::string extras = TableVariantExtras(c, s.varying);
    if (!extras.empty()) variant += " " + LatexEscape(extras);
    const TableColumns col = CellTableColumns(s, i, Missing());
    std::string outcome = c.ok() ? "ok" : "\\textit{" + LatexEscape(c.outcome) + "}";
    if (c.ok() && !base && cmp.speed != SpeedVerdict::kUnavailable) {
      outcome += cmp.speed == SpeedVerdict::kSlower         ? ", slower"
                 : cmp.speed == SpeedVerdict::kFaster       ? ", faster"
                 : cmp.speed == SpeedVerdict::kWithinRunOnly ? ", no claim (1 rep.)"
                                                             : ", no diff.";
    }
    t += variant + " & " + LatexEscape(c.config.scope) + " & " + LatexEscape(c.config.window) +
         " & " + LatexEscape(c.config.dtype) + " & " + Tt(c.config.compile) + " & " + col.ppl +
         " & " + col.tpot + " & " + col.ratio + " & " + col.memory + " & " + outcome + " & " + Tt(c.short_key) + " \\\\\n";
  }
  t += "\\bottomrule\n\\end{tabular}}\n\\end{table*}\n";
  return t;
}

std::string SummaryTable(const ReportModel& model) {
  std::string t;
  t += "\\begin{table}[tbp]\n\\centering\n\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n";
  t += "\\caption{Sweep " + LatexEscape(model.sweep.name, ":") +
       ": cells per study and outcome; comparisons with each study's baseline "
       "(slower or faster only when the 95\\% Student-t CI of the TPOT median ratio "
       "excludes 1 and the change exceeds $\\pm$" +
       LatexEscape(FormatPercent(model.min_effect)) +
       ", and never from one replicate; "
       "PPL stable within $\\pm$" +
       LatexEscape(FormatPercent(model.ppl_tolerance)) + ").}";
  t += "\\label{tab:orch-summary}\n\\orchfit{\\begin{tabular}{lrrp{0.3\\linewidth}rlrrrr}"
       "\n\\toprule\n";
  t += "Study & Cells & ok & Failures & Base TPOT [ms] & Baseline & Slower & Faster & No diff. & "
       "PPL "
       "stable \\\\\n\\midrule\n";
  for (const Study& s : model.studies) {
    int ok = 0, slower = 0, faster = 0, same = 0, stable = 0;
    std::map<std::string, int> failures;
    for (size_t i = 0; i < s.cells.size(); ++i) {
      const Cell& c = s.cells[i];
      if (c.ok()) {
        ++ok;
      } else {
        ++failures[c.outcome];
      }
      const Comparison& cmp = s.comparisons[i];
      slower += cmp.speed == SpeedVerdict::kSlower;
      faster += cmp.speed == SpeedVerdict::kFaster;
      same += cmp.speed == SpeedVerdict::kNoDifference;
      stable += cmp.ppl == PplVerdict::kStable;
    }
    std::string fail;
    for (const auto& [o, n] : failures) {
      fail += (fail.empty() ? "" : ", ") + LatexEscape(o) + " " + std::to_string(n);
    }
    std::string base = Missing(), base_key = Missing();
    if (s.baseline) {
      base_key = Tt(s.cells[*s.baseline].short_key);
      if (s.cells[*s.baseline].tpot) base = FormatMs(s.cells[*s.baseline].tpot->median);
    }
    t += LatexEscape(s.id) + " & " + std::to_string(s.cells.size()) + " & " + std::to_string(ok) +
         " & " + (fail.empty() ? "none" : fail) + " & " + base + " & " + base_key + " & " +
         std::to_string(slower) + " & " + std::to_string(faster) + " & " + std::to_string(same) +
         " & " + std::to_string(stable) + " \\\\\n";
  }
  t += "\\bottomrule\n\\end{tabular}}\n\\end{table}\n";
  return t;
}

std::string Classes(const std::map<std::string, int>& classes) {
  std::string out;
  for (const auto& [o, n] : classes) {
    out += (out.empty() ? "" : ", ") + LatexEscape(o) + " " + std::to_string(n);
  }
  return out;
}

// A big study's failure map: the groups with a failure on the axes that explain the
// failures best (study_summary.h), not every cell.
std::string CollapsedMapTable(const Study& s, const CollapsedMap& map) {
  if (map.axes.empty()) return "";
  std::string axes;
  for (const std::string& a : map.axes) axes += (axes.empty() ? "" : " and ") + Tt(a);
  std::string t;
  t += "\\begin{table}[tbp]\n\\centering\n\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n";
  t += "\\caption{Study " + LatexEscape(s.id, ":") + ": failures of its " +
       std::to_string(s.cells.size()) + " cells by " + axes + ", the axes that separate " +
       "failed from ok cells best (" + std::to_string(map.unexplained) +
       LatexEscape(" finished cells in groups that mix both). Groups without a failure are "
                   "left out; every cell is in report.html.") + "}";
  t += "\\label{tab:orch-map-" + SafeFileStem(s.id) + "}\n";
  t += "\\orchfit{\\begin{tabular}{" + std::string(map.axes.size(), 'l') + "rrl}\n\\toprule\n";
  for (const std::string& a : map.axes) t += LatexEscape(a) + " & ";
  t += "Cells & Failed & Failures by class \\\\\n\\midrule\n";
  for (const CollapsedMap::Group& g : map.groups) {
    if (g.failed == 0) continue;
    for (const std::string& v : g.values) t += Tt(v) + " & ";
    t += std::to_string(g.cells) + " & " + std::to_string(g.failed) + " & " + Classes(g.classes) +
         " \\\\\n";
  }
  t += "\\bottomrule\n\\end{tabular}}\n\\end{table}\n";
  return t;
}

std::string MapTable(const Study& s, const FailureMap& map, const StudySummary* big) {
  if (big != nullptr) return CollapsedMapTable(s, big->map);
  std::string t;
  t += "\\begin{table}[tbp]\n\\centering\n\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n";
  t += "\\caption{Study " + LatexEscape(s.id, ":") + ": failure map, rows " +
       Tt(map.row_axis) + (map.col_axis.empty() ? "" : ", columns " + Tt(map.col_axis)) +
       ". Each cell: outcome and trial key; out of memory in bold.}";
  t += "\\label{tab:orch-map-" + SafeFileStem(s.id) + "}\n";
  t += "\\orchfit{\\begin{tabular}{l" + std::string(map.cols.size(), 'l') + "}\n\\toprule\n";
  t += LatexEscape(map.row_axis);
  for (const std::string& c : map.cols)
    t += " & " + (map.col_axis.empty() ? "" : LatexEscape(map.col_axis) + "=") + LatexEscape(c);
  t += " \\\\\n\\midrule\n";
  for (size_t r = 0; r < map.rows.size(); ++r) {
    t += Tt(map.rows[r]);
    for (size_t c = 0; c < map.cols.size(); ++c) {
      std::string cell;
      for (const MapEntry& e : map.grid[r][c]) {
        std::string o = e.outcome == "oom" ? "\\textbf{oom}" : LatexEscape(e.outcome);
        cell += (cell.empty() ? "" : "; ") + o + " " + Tt(e.short_key);
        if (!e.extra.empty()) cell += " " + LatexEscape(e.extra);
      }
      t += " & " + (cell.empty() ? Missing() : cell);
    }
    t += " \\\\\n";
  }
  t += "\\bottomrule\n\\end{tabular}}\n\\end{table}\n";
  return t;
}

std::string PairOutcome(const Cell& c) {
  return c.ok() ? "ok" : "\\textit{" + LatexEscape(c.outcome) + "}";
}

std::string StackTable(const ReportModel& model, const KeyPairing& k) {
  std::string t;
  t += "\\begin{table*}[tbp]\n\\centering\n\\scriptsize\n\\setlength{\\tabcolsep}{3pt}\n";
  t += "\\caption{Stack comparison: cells that differ only in " + Tt(k.key) +
       ", each against " + Tt(k.key + "=" + k.reference_value) +
       ". Ratio: TPOT median other/reference with its 95\\% Student-t CI (slower or faster only "
       "when the CI excludes 1 and the change exceeds $\\pm$" +
       LatexEscape(FormatPercent(model.min_effect)) + "); PPL change other/reference$-$1.}";
  t += "\\label{tab:orch-stacks}\n";
  t += "\\orchfit{\\begin{tabular}{lllllrll}\n\\toprule\n";
  t += "Cell & " + LatexEscape(k.key) +
       " & Outcome ref. & Outcome & Ratio & PPL change & Ref.\\ trial & Trial \\\\\n\\midrule\n";
  for (const CellPair& p : k.pairs) {
    std::string ratio = Missing();
    if (p.ratio) {
      ratio = FormatRatio(*p.ratio) + " [" + FormatRatio(p.ratio_ci.lo) + ", " +
              FormatRatio(p.ratio_ci.hi) + "] " + LatexEscape(SpeedVerdictText(p.speed));
    }
    t += LatexEscape(p.label) + " & " +
         Tt(std::string(p.other.config.fields.Value(k.key))) + " & " +
         PairOutcome(p.reference) + " & " + PairOutcome(p.other) + " & " + ratio + " & " +
         (p.ppl_change ? LatexEscape(FormatSignedPercent(*p.ppl_change)) : Missing()) + " & " +
         Tt(p.reference.short_key) + " & " + Tt(p.other.short_key) + " \\\\\n";
  }
  t += "\\bottomrule\n\\end{tabular}}\n\\end{table*}\n";
  return t;
}

}  // namespace

std::string RenderProseLatex(const Prose& prose) {
  std::string out;
  const std::vector<Span>& spans = prose.spans();
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    const std::string_view next = i + 1 < spans.size() ? std::string_view(spans[i + 1].text) : "";
    switch (s.kind) {
      case SpanKind::kText:
      case SpanKind::kUserText:
        out += LatexEscape(s.text, next);
        break;
      case SpanKind::kCode:
      case SpanKind::kKey:
        out += Tt(s.text);
        break;
    }
  }
  return out;
}

std::string LatexPreambleRequirements() {
  return "\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n\\usepackage{booktabs}\n"
         "\\usepackage{graphicx}\n";
}

std::string RenderLatexTables(const ReportModel& model,
                              const std::vector<std::optional<FailureMap>>& maps,
                              const KeyPairing* pairing) {
  std::string out = "% Generated by orch report from sweep " + OneLine(model.sweep.name) +
                    "; do not edit.\n% Needs in the preamble:\n";
  std::string req = LatexPreambleRequirements();
  for (size_t b = 0, e; b < req.size(); b = e + 1) {
    e = req.find('\n', b);
    out += "%   " + req.substr(b, e - b) + "\n";
  }
  // Wide tables shrink to the line width; narrow ones keep their natural size.
  out +=
      "\\providecommand{\\orchfit}[1]{\\sbox0{#1}\\ifdim\\wd0>\\linewidth"
      "\\resizebox{\\linewidth}{!}{\\usebox0}\\else\\usebox0\\fi}\n";
  out += "\n" + SummaryTable(model);
  std::vector<std::shared_ptr<const StudySummary>> big(model.studies.size());  // big only
  for (size_t i = 0; i < model.studies.size(); ++i) {
    if (IsBigStudy(model.studies[i])) big[i] = SummaryOf(model.studies[i]);
  }
  for (size_t i = 0; i < model.studies.size(); ++i) {
    out += "\n" + StudyTable(model, model.studies[i], big[i] ? &*big[i] : nullptr);
  }
  for (size_t i = 0; i < model.studies.size() && i < maps.size(); ++i) {
    if (maps[i]) out += "\n" + MapTable(model.studies[i], *maps[i], big[i] ? &*big[i] : nullptr);
  }
  if (pairing != nullptr && !pairing->pairs.empty()) out += "\n" + StackTable(model, *pairing);
  return out;
}

std::string RenderLatexFigures(const ReportModel& model, const std::vector<FigureNames>& names,
                               const std::string& dir,
                               const std::vector<std::optional<FailureMap>>& maps) {
  std::string out =
      "% Generated by orch report; needs graphicx. Figures are PDFs in " + OneLine(dir) + "/.\n";
  for (size_t i = 0; i < model.studies.size(); ++i) {
    const Study& s = model.studies[i];
    const std::string label = SafeFileStem(s.id);
    const std::string ranked = std::to_string(kBigPlotRanked);
    const bool big = IsBigStudy(s);
    out += "\n\\begin{figure}[tbp]\n\\centering\n\\includegraphics[width=\\linewidth]{" + dir +
           "/" + names[i].tpot + ".pdf}\n\\caption{Study " + LatexEscape(s.id, ":") + ": " +
           LatexEscape(big ? "TPOT median with 95% CI of the " + ranked + " fastest and the " +
                                 ranked + " slowest cells; dashed: the baseline."
                           : "TPOT median per variant with 95% CI; dashed: the baseline.") +
           "}"
           "\\label{fig:orch-tpot-" +
           label + "}\n\\end{figure}\n";
    out += "\n\\begin{figure}[tbp]\n\\centering\n\\includegraphics[width=\\linewidth]{" + dir +
           "/" + names[i].ppl + ".pdf}\n\\caption{Study " + LatexEscape(s.id, ":") + ": " +
           LatexEscape(big ? "PPL of the " + ranked + " cells with the lowest and the " + ranked +
                                 " with the highest; dashed: the baseline."
                           : "PPL per variant, grouped by KV window; dashed: the baseline.") +
           "}"
           "\\label{fig:orch-ppl-" +
           label + "}\n\\end{figure}\n";
    if (i < maps.size() && maps[i]) {
      out += "\n\\begin{figure}[tbp]\n\\centering\n\\includegraphics[width=\\linewidth]{" + dir +
             "/" + names[i].map + ".pdf}\n\\caption{Study " + LatexEscape(s.id, ":") + ": " +
             LatexEscape("failure map, each cell's outcome; thick lines: the out-of-memory "
                         "frontier.") +
             "}\\label{fig:orch-map-" + label + "}\n\\end{figure}\n";
    }
  }
  return out;
}

}  // namespace orch::report
