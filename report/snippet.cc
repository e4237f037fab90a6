#include "report/snippet.h"

#include <map>
#include <set>

#include "report/cell_label.h"
#include "report/latex_writer.h"
#include "report/markdown_writer.h"
#include "report/number_format.h"

namespace orch::report {
namespace {

std::string JoinList(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += (i + 1 == v.size()) ? (v.size() > 2 ? ", and " : " and ") : ", ";
    out += v[i];
  }
  return out;
}

std::string Ci(const Interval& ci) {
  return "[" + FormatRatio(ci.lo) + ", " + FormatRatio(ci.hi) + "]";
}

void AppendCodeList(Prose& p, const std::vector<std::string>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) p.Text((i + 1 == items.size()) ? (items.size() > 2 ? ", and " : " and ") : ", ");
    p.Code(items[i]);
  }
}

}  // namespace

std::vector<Prose> BuildSnippet(const ReportModel& model) {
  std::vector<Prose> out;
  std::set<std::string> keys;
  int ok = 0;
  std::map<std::string, int> failed;
  for (const Study& s : model.studies) {
    for (const Cell& c : s.cells) {
      if (!keys.insert(c.key).second) continue;
      if (c.ok()) {
        ++ok;
      } else if (c.outcome != "pending" && c.outcome != "running") {
        ++failed[c.outcome];
      }
    }
  }
  Prose intro;
  intro.Text("We ran " + std::to_string(keys.size()) + " configurations");
  if (!model.methods.empty()) {
    intro.Text(" (quantization ");
    AppendCodeList(intro, model.methods);
    intro.Text(")");
  }
  if (!model.models.empty()) intro.Text(" of ").User(JoinList(model.models));
  if (!model.hardware.empty()) intro.Text(" on ").User(JoinList(model.hardware));
  if (!model.tokens.empty()) intro.Text(", decoding " + JoinList(model.tokens) + " tokens");
  intro.Text(". " + std::to_string(ok) + " produced measurements");
  if (!failed.empty()) {
    int n_failed = 0;
    std::vector<std::string> parts;
    for (const auto& [o, n] : failed) {
      parts.push_back(o + " (" + std::to_string(n) + ")");
      n_failed += n;
    }
    intro.Text("; " + std::to_string(n_failed) + " ended without: " + JoinList(parts));
  }
  if (model.unfinished > 0) intro.Text("; " + std::to_string(model.unfinished) + " were not run");
  out.push_back(intro.Text("."));

  for (const Study& s : model.studies) {
    if (s.cells.size() < 2 || !s.baseline || !s.cells[*s.baseline].ok() ||
        !s.cells[*s.baseline].tpot) {
      continue;
    }
    const Cell& base = s.cells[*s.baseline];
    Prose p;
    p.Text("In study ").User(s.id);
    if (!s.title.empty()) p.Text(" (").User(s.title).Text(")");
    p.Text(", against the ")
        .Append(CellLabelProse(base, s.varying))
        .Text(" baseline (median TPOT " + FormatMs(base.tpot->median) + " ms, ")
        .Key(base.short_key)
        .Text(")");
    std::vector<size_t> moved, same;
    int stable = 0, with_ppl = 0;
    for (size_t i = 0; i < s.cells.size(); ++i) {
      const Comparison& c = s.comparisons[i];
      if (c.speed == SpeedVerdict::kSlower || c.speed == SpeedVerdict::kFaster) moved.push_back(i);
      if (c.speed == SpeedVerdict::kNoDifference) same.push_back(i);
      if (c.ppl != PplVerdict::kUnavailable) ++with_ppl;
      if (c.ppl == PplVerdict::kStable) ++stable;
    }
    if (moved.empty() && same.empty()) {
      p.Text(", no variant could be compared.");
      out.push_back(p);
      continue;
    }
    for (size_t n = 0; n < moved.size(); ++n) {
      const Cell& c = s.cells[moved[n]];
      const Comparison& cmp = s.comparisons[moved[n]];
      p.Text(n == 0 ? ", " : "; ").Append(CellLabelProse(c, s.varying));
      p.Text(std::string(" was ") + SpeedVerdictText(cmp.speed) + " (median ratio " +
             FormatRatio(*cmp.ratio) + ", 95% CI " + Ci(cmp.ratio_ci) + ", ")
          .Key(c.short_key)
          .Text(")");
    }
    if (!same.empty()) {
      p.Text(moved.empty() ? ", " : "; ");
      p.Text(std::to_string(same.size()) +
             (same.size() == 1 ? " variant showed" : " variants showed") +
             " no measurable difference in TPOT (");
      for (size_t n = 0; n < same.size(); ++n) {
        if (n) p.Text(", ");
        p.Key(s.cells[same[n]].short_key);
      }
      p.Text(")");
    }
    if (with_ppl > 0) {
      p.Text("; PPL stayed within +/-" + FormatPercent(model.ppl_tolerance) +
             " of the baseline for " + std::to_string(stable) + " of " + std::to_string(with_ppl) +
             " compared variants");
    }
    out.push_back(p.Text("."));
  }
  out.push_back(Prose().Text(
      "TPOT figures are medians of per-token latencies with 95% bootstrap confidence intervals; "
      "a difference is reported only when the interval of the ratio excludes 1."));
  return out;
}

std::string RenderSnippetMarkdown(const std::vector<Prose>& snippet) {
  std::string out;
  for (const Prose& p : snippet) out += (out.empty() ? "" : " ") + RenderProseMarkdown(p);
  return out + "\n";
}

std::string RenderSnippetLatex(const std::vector<Prose>& snippet) {
  std::string out = "% Generated by orch report; needs T1 fontenc.\n";
  for (const Prose& p : snippet) out += RenderProseLatex(p) + "\n";
  return out;
}

}  // namespace orch::report
