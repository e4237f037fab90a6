#include "report/markdown_summary.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "report/cell_label.h"
#include "report/number_format.h"
#include "report/study_summary.h"
#include "report/text_escape.h"

namespace orch::report {
namespace {

std::string Code(const std::string& s, bool in_table = false) { return MarkdownCode(s, in_table); }

constexpr size_t kMaxAxisValues = 20;

std::string Opt(const std::optional<double>& v, std::string (*fmt)(double)) {
  return v ? fmt(*v) : "--";
}

std::string WhereFull(const std::string& sweep_name) {
  return "The full table of trials is in `report.html` (sort, filter, search; click a trial "
         "for its attempts) and in `orch export --sweep " +
         MarkdownEscape(sweep_name) + " --format csv`.";
}

std::string Classes(const std::map<std::string, int>& classes) {
  std::string s;
  for (const auto& [c, n] : classes)
    s += (s.empty() ? "" : ", ") + MarkdownEscape(c) + " " + std::to_string(n);
  return s;
}

}  // namespace

std::string RenderStudySummaryMarkdown(const Study& s, const std::string& sweep_name) {
  const std::shared_ptr<const StudySummary> summary = SummaryOf(s);
  const StudySummary& sum = *summary;
  std::string out = "This study has " + std::to_string(s.cells.size()) + " cells, more than the " +
                    std::to_string(kBigStudyCells) +
                    " a table here stays readable for: below is its summary. " +
                    WhereFull(sweep_name) + "\n\n";
  out += "Outcomes: " + std::to_string(sum.ok) + " ok, " + std::to_string(sum.failed) + " failed" +
         (sum.failures.empty() ? "" : " (" + Classes(sum.failures) + ")") + ", " +
         std::to_string(sum.unfinished) + " not finished.\n\n";
  if (!sum.marginals.empty()) {
    out += "**Per axis value** (medians over the ok cells with that value):\n\n";
    out += "| Axis | Value | Cells | ok | Failed | Not finished | TPOT median ms | PPL median |\n";
    out += "|---|---|---:|---:|---:|---:|---:|---:|\n";
    // An axis with many values (a seed, an index) lists only its values with the most
    // failures: one row per value would enumerate the cells again.
    std::map<std::string, std::vector<const MarginalRow*>> by_axis;
    for (const MarginalRow& r : sum.marginals) by_axis[r.axis].push_back(&r);
    std::string cut_note;
    std::vector<const MarginalRow*> shown;
    for (const std::string& axis : s.varying) {
      std::vector<const MarginalRow*> rows = by_axis[axis];
      if (rows.size() > kMaxAxisValues) {
        std::stable_sort(rows.begin(), rows.end(), [](const MarginalRow* a, const MarginalRow* b) {
          return a->failed > b->failed;
        });
        cut_note += Code(axis) + " has " + std::to_string(rows.size()) + " values: the " +
                    std::to_string(kMaxAxisValues) + " with the most failures are shown. ";
        rows.resize(kMaxAxisValues);
      }
      shown.insert(shown.end(), rows.begin(), rows.end());
    }
    for (const MarginalRow* rp : shown) {
      const MarginalRow& r = *rp;
      out += "| " + MarkdownEscape(r.axis) + " | " + Code(r.value, true) + " | " +
             std::to_string(r.cells) + " | " + std::to_string(r.ok) + " | " +
             std::to_string(r.failed) + " | " + std::to_string(r.unfinished) + " | " +
             Opt(r.tpot_median, FormatMs) + " | " + Opt(r.ppl_median, FormatPpl) + " |\n";
    }
    out += "\n";
    if (!cut_note.empty()) out += cut_note + "\n\n";
  }
  auto ranked = [&](const std::vector<RankedCell>& cells, const char* title) {
    if (cells.empty()) return;
    out += std::string("**") + title + "** by TPOT median:\n\n";
    out += "| Cell | TPOT median [95% CI] ms | Ratio to baseline [95% CI] | PPL | Trial |\n";
    out += "|---|---:|---|---:|---|\n";
    for (const RankedCell& r : cells) {
      const TableColumns col = CellTableColumns(s, r.index, "--");
      out += "| " + MarkdownEscape(CellLabel(s.cells[r.index], s.varying)) + " | " + col.tpot +
             " | " + col.ratio + " | " + col.ppl + " | " + Code(s.cells[r.index].short_key, true) +
             " |\n";
    }
    out += "\n";
  };
  ranked(sum.best, "Fastest cells");
  ranked(sum.worst, "Slowest cells");
  if (!sum.map.axes.empty()) {
    std::string axes;
    for (const std::string& a : sum.map.axes) axes += (axes.empty() ? "" : " x ") + Code(a);
    out += "**Failure map collapsed to " + axes + "**, the " +
           (sum.map.axes.size() == 1 ? std::string("axis") : "pair of axes") +
           " whose values separate failed from ok cells best (" +
           std::to_string(sum.map.unexplained) +
           (sum.map.unexplained == 1 ? " finished cell sits" : " finished cells sit") +
           " in a group that mixes both; 0: the axes explain every failure). Groups without a "
           "failure are left out.\n\n|";
    for (const std::string& a : sum.map.axes) out += " " + MarkdownEscape(a) + " |";
    out += " Cells | Failed | Failures by class |\n|";
    for (size_t i = 0; i < sum.map.axes.size(); ++i) out += "---|";
    out += "---:|---:|---|\n";
    for (const CollapsedMap::Group& g : sum.map.groups) {
      if (g.failed == 0) continue;
      out += "|";
      for (const std::string& v : g.values) out += " " + Code(v, true) + " |";
      out += " " + std::to_string(g.cells) + " | " + std::to_string(g.failed) + " | " +
             Classes(g.classes) + " |\n";
    }
    out += "\n";
  }
  return out;
}

std::string RenderTrialCountsMarkdown(const ReportModel& m) {
  std::map<std::string, int> outcomes;
  std::unordered_set<std::string_view> seen;
  for (const Study& s : m.studies) {
    for (const Cell& c : s.cells) {
      if (seen.insert(c.key).second) ++outcomes[c.outcome];
    }
  }
  return std::to_string(seen.size()) + " trials (" + Classes(outcomes) + "). " +
         WhereFull(m.sweep.name) + " `orch show KEY` prints one trial with every attempt.\n";
}

}  // namespace orch::report
