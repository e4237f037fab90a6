#include "report/markdown_writer.h"

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "report/cell_label.h"
#include "report/claims.h"
#include "report/figures.h"
#include "report/markdown_summary.h"
#include "report/number_format.h"
#include "report/study_summary.h"
#include "report/text_escape.h"
#include "report/trial_index.h"

namespace orch::report {
namespace {

std::string Code(const std::string& s, bool in_table = false) { return MarkdownCode(s, in_table); }

// Lists longer than this are cut in a sweep with a big study (study_summary.h), with a
// line saying how many more there are; sweeps without one are listed in full.
constexpr size_t kNoCap = std::numeric_limits<size_t>::max();
constexpr size_t kBigSweepListCap = 50;
static_assert(4 * kBigSweepListCap < kKeptConclusionSpans, "the model keeps more than report.md shows");

std::string More(size_t shown, size_t total) {
  return total > shown ? "- ... and " + std::to_string(total - shown) +
                             " more: see `report.html` (filter the trial tables) or `orch show KEY`.\n"
                       : "";
}

std::string Ci(const Interval& ci, std::string (*fmt)(double)) {
  return "[" + fmt(ci.lo) + ", " + fmt(ci.hi) + "]";
}

// Spec text (context, notes, conclusion) is plain text: paragraphs kept, markup escaped.
std::string Paragraphs(const std::string& text) {
  std::string out;
  for (const std::string& p : SplitParagraphs(text)) out += MarkdownEscape(p) + "\n\n";
  return out;
}

std::string List(const std::vector<std::string>& values) {
  if (values.empty()) return "not recorded";
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + Code(v);
  return out;
}

std::string CellRow(const Study& s, size_t i) {
  const Cell& c = s.cells[i];
  const Comparison& cmp = s.comparisons[i];
  const bool base = s.baseline && *s.baseline == i;
  TableColumns col = CellTableColumns(s, i, "--");
  if (c.ok() && !base && cmp.ratio) col.ratio += " " + SpeedVerdictText(cmp.speed);
  std::string variant = Code(c.config.quant, true);
  if (base) variant = "**" + variant + "**";
  const std::string extras = TableVariantExtras(c, s.varying);
  if (!extras.empty()) variant += " " + MarkdownEscape(extras);
  return "| " + variant + " | " + MarkdownEscape(c.config.scope) + " | " +
         MarkdownEscape(c.config.window) + " | " + MarkdownEscape(c.config.dtype) + " | " +
         MarkdownEscape(c.config.compile) + " | " + col.ppl + " | " + col.tpot + " | " +
         col.ratio + " | " + col.memory + " | " + (c.ok() ? "ok" : "**" + MarkdownEscape(c.outcome) + "**") + " | " +
         Code(c.short_key, true) + " |\n";
}

void Context(const ReportModel& m, std::string& out) {
  out += "## 1. Context and goal\n\n";
  out += m.sweep.context.empty() ? "The spec gives no `context`.\n\n" : Paragraphs(m.sweep.context);
  int done = 0, total = 0;
  std::unordered_set<std::string_view> seen;
  for (const Study& s : m.studies) {
    for (const Cell& c : s.cells) {
      if (!seen.insert(c.key).second) continue;
      ++total;
      done += c.outcome != "pending" && c.outcome != "running";
    }
  }
  out += "What was recorded:\n\n";
  out += "- Hardware: " + List(m.hardware) + "\n";
  out += "- Build: " + List(m.builds) + "\n";
  out += "- Model: " + List(m.models) + "; dataset: " + List(m.datasets) + "\n";
  out += "- Methods (quantization): " + List(m.methods) + "\n";
  out += "- dtype: " + List(m.dtypes) + "; KV window: " + List(m.windows) +
         "; compile: " + List(m.compile_modes) + "; tokens: " + List(m.tokens) + "\n";
  out += "- Cells: " + std::to_string(total) + " in " + std::to_string(m.studies.size()) +
         " studies, " + std::to_string(done) + " done";
  if (m.stale > 0)
    out += "; " + std::to_string(m.stale) + " stale cells no longer in the spec are left out";
  out += "\n\n";
  out += "Every number is followed by the trial key (first 12 hex digits) it comes from.\n\n";
  if (!m.profile.empty()) {
    out += "### Where the decode step spends its time\n\n";
    out += "From the sweep's `profile` trials: share of the decode step per component.\n\n";
    out += "| Cell | Step [ms] |";
    std::vector<std::string> parts;
    for (const auto& [name, v] : m.profile.front().shares) parts.push_back(name);
    for (const std::string& p : parts) out += " " + MarkdownEscape(p) + " |";
    out += " Trial |\n|---|---:|";
    for (size_t i = 0; i < parts.size(); ++i) out += "---:|";
    out += "---|\n";
    for (const ProfileRow& r : m.profile) {
      out +=
          "| " + MarkdownEscape(r.label) + " | " + (r.step_ms ? FormatMs(*r.step_ms) : "--") + " |";
      for (const std::string& p : parts) {
        std::string v = "--";
        for (const auto& [name, share] : r.shares) {
          if (name == p) v = FormatPercent(share);
        }
        out += " " + v + " |";
      }
      out += " " + Code(r.short_key, true) + " |\n";
    }
    out += "\n";
  }
}

void FailureMapSection(const FailureMap& map, const std::string& figure, std::string& out);

void StudySection(const ReportModel& m, const Study& s, const FigureNames& fig,
                  const std::optional<FailureMap>& map, int n, std::string& out) {
  out += "### 2." + std::to_string(n) + " Study " + MarkdownEscape(s.id) + ": " +
         MarkdownEscape(s.title) + "\n\n";
  out += "**Settings.** " + std::to_string(s.cells.size()) +
         (s.cells.size() == 1 ? " cell" : " cells");
  if (!s.cells.empty()) {
    std::string constant;
    for (const auto& [f, value] : FixedFields(s)) {
      constant += (constant.empty() ? "" : ", ") + f + "=" + Code(value);
    }
    std::string varying;
    for (const std::string& f : s.varying) varying += (varying.empty() ? "" : ", ") + f;
    out += "; varying: " + (varying.empty() ? std::string("nothing") : varying);
    if (!constant.empty()) out += "; fixed: " + constant;
  }
  out += ". " + RenderProseMarkdown(s.baseline_line) + "\n\n";
  if (IsBigStudy(s)) {
    out += RenderStudySummaryMarkdown(s, m.sweep.name);
    const std::string ranked = std::to_string(kBigPlotRanked);
    out += "![TPOT of the " + ranked + " fastest and " + ranked + " slowest cells, study " +
           MarkdownEscape(s.id) + "](figures/" + fig.tpot + ".svg)\n\n![PPL of the " + ranked +
           " lowest and " + ranked + " highest cells, study " + MarkdownEscape(s.id) +
           "](figures/" + fig.ppl + ".svg)\n\n";
    if (!s.notes.empty()) out += "**Notes from the spec.**\n\n" + Paragraphs(s.notes);
    return;
  }
  if (!s.cells.empty()) {
    out +=
        "| Variant | Scope | Window | dtype | Compile | PPL | TPOT median [95% CI] ms | Ratio to "
        "baseline [95% CI] | Peak memory | Outcome | Trial |\n";
    out += "|---|---|---|---|---|---:|---:|---|---:|---|---|\n";
    for (size_t i = 0; i < s.cells.size(); ++i) out += CellRow(s, i);
    out += "\n![TPOT per variant, study " + MarkdownEscape(s.id) + "](figures/" + fig.tpot +
           ".svg)\n\n![PPL per variant and window, study " + MarkdownEscape(s.id) + "](figures/" +
           fig.ppl + ".svg)\n\n";
  }
  std::string ok_lines, fail_lines;
  for (size_t i = 0; i < s.cells.size(); ++i) {
    (s.cells[i].ok() ? ok_lines : fail_lines) +=
        "- " + RenderProseMarkdown(s.observations[i]) + "\n";
  }
  out += "**Observations.**\n\n" +
         (ok_lines.empty() ? "- No cell produced measurements.\n" : ok_lines) + "\n";
  if (!fail_lines.empty()) out += "**Cells without measurements.**\n\n" + fail_lines + "\n";
  if (map) FailureMapSection(*map, fig.map, out);
  out += "PPL is called stable within +/-" + FormatPercent(m.ppl_tolerance) +
         " of the baseline; a cell's TPOT median is the geometric mean of its replicates' "
         "medians; slower or faster only when the 95% CI of the TPOT median ratio (Student t "
         "on the replicates' log medians) excludes 1 and the change exceeds +/-" +
         FormatPercent(m.min_effect) +
         "; with one replicate the interval covers within-run spread only and no such claim is "
         "made.";
  if (s.sensitivity) out += " Sensitivity: " + DetectableChangeText(*s.sensitivity) + ".";
  out += "\n\n";
  if (!s.notes.empty()) out += "**Notes from the spec.**\n\n" + Paragraphs(s.notes);
}


std::string MapEntryText(const MapEntry& e) {
  std::string t = e.outcome == "oom" ? "**OOM**" : MarkdownEscape(e.outcome);
  t += " " + Code(e.short_key, true);
  if (!e.extra.empty()) t += " (" + MarkdownEscape(e.extra) + ")";
  return t;
}

std::string JoinValues(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + Code(x);
  return s;
}

void FailureMapSection(const FailureMap& map, const std::string& figure, std::string& out) {
  out += "**Failure map** (rows " + Code(map.row_axis) +
         (map.col_axis.empty() ? "" : ", columns " + Code(map.col_axis)) + "; " +
         MarkdownEscape(map.axes_how) +
         "). Each cell: its outcome and trial key; out of memory in bold capitals.\n\n";
  out += "| " + MarkdownEscape(map.row_axis) + " |";
  for (const std::string& c : map.cols)
    out += " " + (map.col_axis.empty() ? "" : MarkdownEscape(map.col_axis) + "=") +
           MarkdownEscape(c) + " |";
  out += "\n|---|";
  for (size_t i = 0; i < map.cols.size(); ++i) out += "---|";
  out += "\n";
  for (size_t r = 0; r < map.rows.size(); ++r) {
    out += "| " + Code(map.rows[r], true) + " |";
    for (size_t c = 0; c < map.cols.size(); ++c) {
      std::string cell;
      for (const MapEntry& e : map.grid[r][c]) cell += (cell.empty() ? "" : "; ") + MapEntryText(e);
      out += " " + (cell.empty() ? std::string("--") : cell) + " |";
    }
    out += "\n";
  }
  out += "\n";
  if (map.frontier.empty()) {
    out += "Out-of-memory frontier: no cell ran out of memory.\n\n";
  } else {
    out += "Out-of-memory frontier:\n\n";
    for (const FailureMap::FrontierRow& f : map.frontier) {
      out += "- " + MarkdownEscape(map.row_axis) + " " + Code(f.row) + ": out of memory";
      if (!map.col_axis.empty()) out += " at " + MarkdownEscape(map.col_axis) + " " + JoinValues(f.oom);
      if (!f.fits.empty())
        out += "; ok at " + MarkdownEscape(map.col_axis) + " " + JoinValues(f.fits);
      out += "\n";
    }
    out += "\n";
  }
  out += "![" + MarkdownEscape(map.title) + "](figures/" + figure + ".svg)\n\n";
}

void FindingList(const std::vector<Finding>& findings, const std::string& none, size_t cap,
                 std::string& out) {
  if (findings.empty()) {
    out += none + "\n\n";
    return;
  }
  for (size_t i = 0; i < findings.size() && i < cap; ++i) {
    const Finding& f = findings[i];
    out += "- " + RenderProseMarkdown(f.line) + "\n";
    for (const Prose& d : f.details) out += "  - " + RenderProseMarkdown(d) + "\n";
  }
  out += More(cap, findings.size()) + "\n";
}

void DebuggingSection(const DebuggingSteps& d, const std::string& n, size_t cap, std::string& out) {
  out += "## " + n + ". Debugging steps\n\n";
  out += "What the trials found on the way, cell by cell; every line names its trial key and "
         "attempt numbers (`orch show KEY` prints the attempts in full).\n\n";
  out += "### " + n + ".1 Sanity trials: first non-finite layer per variant\n\n";
  FindingList(d.sanity,
              "No `mode: sanity` trials in this sweep (one forward pass that names the first "
              "layer whose output is not finite).",
              cap, out);
  out += "### " + n + ".2 Non-finite values in other trials\n\n";
  FindingList(d.non_finite, "None.", cap, out);
  out += "### " + n + ".3 Blocked cells, grouped by reason\n\n";
  FindingList(d.blocked, "None.", cap, out);
  out += "### " + n + ".4 Retried cells and what differed between their attempts\n\n";
  FindingList(d.retries, "No cell needed more than one attempt.", cap, out);
}

std::string OutcomeText(const Cell& c) {
  return c.ok() ? "ok" : "**" + MarkdownEscape(c.outcome) + "**";
}

std::string TpotText(const Cell& c) {
  if (!c.tpot) return "--";
  return FormatMs(c.tpot->median) + " " + Ci(c.tpot->median_ci, FormatMs);
}

std::string PairRatioText(const CellPair& p) {
  if (!p.ratio) return MarkdownEscape(p.unavailable_why.empty() ? "--" : p.unavailable_why);
  return FormatRatio(*p.ratio) + " " + Ci(p.ratio_ci, FormatRatio) + " " +
         SpeedVerdictText(p.speed);
}

std::string PplChangeText(const CellPair& p) {
  if (!p.ppl_change) return "--";
  return FormatSignedPercent(*p.ppl_change) +
         (p.ppl == PplVerdict::kStable ? " stable" : p.ppl == PplVerdict::kHigher ? " higher" : " lower");
}

// One row per pair: the shared label, both outcomes, both TPOTs, ratio, PPL, keys.
void PairTable(const std::vector<CellPair>& pairs, const std::string& ref_name,
               const std::string& other_name, bool show_other_value, const std::string& key,
               std::string& out, size_t cap = kNoCap) {
  out += "| Cell |" + std::string(show_other_value ? " " + MarkdownEscape(key) + " |" : "") +
         " Outcome " + ref_name + " | Outcome " + other_name + " | TPOT " + ref_name +
         " [95% CI] ms | TPOT " + other_name + " [95% CI] ms | Ratio " + other_name + "/" +
         ref_name + " [95% CI] | PPL " + ref_name + " | PPL " + other_name +
         " | PPL change | Trials (" + ref_name + ", " + other_name + ") |\n";
  out += std::string("|---|") + (show_other_value ? "---|" : "") +
         "---|---|---:|---:|---|---:|---:|---:|---|\n";
  for (size_t i = 0; i < pairs.size() && i < cap; ++i) {
    const CellPair& p = pairs[i];
    out += "| " + MarkdownEscape(p.label) + " |";
    if (show_other_value) {
      out += " " + Code(std::string(p.other.config.fields.Value(key)), true) + " |";
    }
    out += " " + OutcomeText(p.reference) + " | " + OutcomeText(p.other) + " | " +
           TpotText(p.reference) + " | " + TpotText(p.other) + " | " + PairRatioText(p) + " | " +
           (p.reference.ppl ? FormatPpl(*p.reference.ppl) : "--") + " | " +
           (p.other.ppl ? FormatPpl(*p.other.ppl) : "--") + " | " + PplChangeText(p) + " | " +
           Code(p.reference.short_key, true) + ", " + Code(p.other.short_key, true) + " |\n";
  }
  if (pairs.size() > cap) out += "\n" + More(cap, pairs.size());
  out += "\n";
}

std::string FailureDetail(const Cell& c) {
  if (c.ok()) return "ok";
  std::string s = "**" + MarkdownEscape(c.outcome) + "**";
  const std::string why = c.error_line.empty() ? c.reason : c.error_line;
  if (!why.empty()) s += " (" + Code(why) + ")";
  return s;
}

// Pairs whose two cells ended differently, one line each.
// `key`: name the other cell by its value of this key instead of `other_name`.
void DifferingOutcomes(const std::vector<CellPair>& pairs, const std::string& ref_name,
                       const std::string& other_name, const std::string& key, std::string& out,
                       size_t cap = kNoCap) {
  bool any = false;
  size_t listed = 0, differing = 0;
  for (const CellPair& p : pairs) {
    if (!p.outcomes_differ()) continue;
    any = true;
    if (++differing > cap) continue;
    ++listed;
    std::string name = other_name;
    if (auto v = p.other.config.fields.Find(key); !key.empty() && v) name = Code(std::string(*v));
    out += "- " + MarkdownEscape(p.label) + ": " + ref_name + " " + FailureDetail(p.reference) +
           " " + Code(p.reference.short_key) + ", " + name + " " + FailureDetail(p.other) +
           " " + Code(p.other.short_key) + "\n";
  }
  out += More(listed, differing);
  out += any ? "\n" : "None: every pair ended with the same outcome.\n\n";
}

void StackSection(const KeyPairing& k, const std::string& n, double min_effect, size_t cap,
                  std::string& out) {
  out += "## " + n + ". Stack comparison: " + MarkdownEscape(k.key) + "\n\n";
  std::string others;
  for (const std::string& v : k.values) {
    if (v != k.reference_value) others += (others.empty() ? "" : ", ") + Code(v);
  }
  std::string ignored;
  for (const std::string& i : ExecutionPolicyKeys()) ignored += (ignored.empty() ? "" : ", ") + Code(i);
  out += "Cells that differ only in " + Code(k.key) + " (execution-policy keys " + ignored +
         " ignored), each " + others + " cell against the cell with " + Code(k.key) + "=" +
         Code(k.reference_value) + ": TPOT ratio other/reference with the 95% CI of the two "
         "cells' replicates (Student t on their log medians), called slower or faster only "
         "when the CI excludes 1 and the change exceeds +/-" + FormatPercent(min_effect) +
         "; PPL change other/reference - 1.\n\n";
  if (k.pairs.empty()) {
    out += "No two cells pair up.\n\n";
  } else {
    PairTable(k.pairs, "reference", "other", true, k.key, out, cap);
  }
  out += "**Failures one stack has and the other not.**\n\n";
  DifferingOutcomes(k.pairs, Code(k.reference_value), "other", k.key, out, cap);
  if (!k.unpaired.empty()) {
    // One line per (value, reason): a sweep whose other studies run one stack only has
    // many such cells; their keys stay listed, each traceable.
    out += "**Cells without a counterpart.**\n\n";
    std::vector<std::pair<std::string, std::vector<const KeyPairing::Unpaired*>>> groups;
    for (const KeyPairing::Unpaired& u : k.unpaired) {
      std::string value = std::string(u.cell.config.fields.Value(k.key));
      std::string head = MarkdownEscape(k.key) + "=" + Code(value) + ": " + MarkdownEscape(u.why);
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.first == head; });
      if (it == groups.end()) it = groups.insert(groups.end(), {head, {}});
      it->second.push_back(&u);
    }
    for (const auto& [head, cells] : groups) {
      out += "- " + std::to_string(cells.size()) + (cells.size() == 1 ? " cell" : " cells") +
             " with " + head + ":";
      for (size_t i = 0; i < cells.size() && i < cap; ++i) {
        out += std::string(i == 0 ? " " : ", ") + Code(cells[i]->cell.short_key) + " (" +
               OutcomeText(cells[i]->cell) + ")";
      }
      if (cells.size() > cap) out += ", and " + std::to_string(cells.size() - cap) + " more";
      out += "\n";
    }
    out += "\n";
  }
}

void Appendix(const ReportModel& m, const std::string& n, size_t cap, std::string& out) {
  out += "## " + n + ". Appendix\n\n### " + n + ".1 Every trial\n\n";
  const TrialIndex index(m);
  const std::vector<const Cell*>& cells = index.trials();
  if (cap != kNoCap) out += RenderTrialCountsMarkdown(m);
  for (size_t t = 0; t < cells.size() && cap == kNoCap; ++t) {
    const Cell* c = cells[t];
    std::string in;
    for (const std::string& id : index.StudiesOf(t))
      in += (in.empty() ? "" : ", ") + MarkdownEscape(id);
    out += "- " + Code(c->key) + " (study " + in + "): **" + MarkdownEscape(c->outcome) + "**, " +
           std::to_string(c->attempts) + (c->attempts == 1 ? " attempt" : " attempts");
    if (!c->reason.empty()) out += "; reason: " + MarkdownEscape(c->reason);
    out += "\n  - config: " + Code(c->config.json) + "\n";
    if (!c->metrics.empty()) {
      std::string metrics;
      for (const auto& [k, v] : c->metrics)
        metrics += (metrics.empty() ? "" : ", ") + k + "=" + FormatMetric(v);
      out += "  - metrics: " + Code(metrics) + "\n";
    }
    if (c->tpot) {
      out += "  - TPOT from " + std::to_string(c->tpot->count) + " samples: median " +
             FormatMs(c->tpot->median) + " ms " + Ci(c->tpot->median_ci, FormatMs) + ", p90 " +
             FormatMs(c->tpot->p90) + " ms, p99 " + FormatMs(c->tpot->p99) + " ms\n";
    }
    for (const EarlierAttempt& e : c->earlier_attempts) {
      out += "  - attempt " + std::to_string(e.number) + ": " + MarkdownEscape(e.outcome) +
             (e.detail.empty() ? "" : " " + Code(e.detail)) + "\n";
    }
  }
  out += "\n### " + n + ".2 Methodology warnings recorded by workers\n\n";
  bool any = false;
  size_t warnings = 0;
  for (const Cell* c : cells) {
    for (const std::string& w : c->warnings) {
      if (++warnings <= cap) out += "- " + Code(c->short_key) + ": " + MarkdownEscape(w) + "\n";
      any = true;
    }
  }
  out += More(std::min(warnings, cap), warnings);
  out += any ? "\n" : "None.\n\n";
  out += "### " + n + ".3 Environment\n\n";
  for (const RunInfo& r : m.runs) {
    out += "Run " + std::to_string(r.id) + ", started " + MarkdownEscape(r.started_utc) +
           (r.finished_utc.empty() ? "" : ", finished " + MarkdownEscape(r.finished_utc)) +
           (r.exit_code ? ", exit code " + std::to_string(*r.exit_code) : "") + ":\n\n";
    const nlohmann::json j = nlohmann::json::parse(r.provenance_json, nullptr, false);
    out += MarkdownFence(j.is_discarded() ? r.provenance_json : j.dump(2), "json") + "\n";
  }
  std::vector<std::string> envs;
  std::map<std::string, std::vector<std::string>> env_keys;
  for (const Cell* c : cells) {
    if (c->worker_environment_json == "{}") continue;
    if (!env_keys.count(c->worker_environment_json)) envs.push_back(c->worker_environment_json);
    env_keys[c->worker_environment_json].push_back(c->short_key);
  }
  for (const std::string& e : envs) {
    std::string keys;
    const std::vector<std::string>& of = env_keys[e];
    for (size_t i = 0; i < of.size() && i < cap; ++i) keys += (keys.empty() ? "" : ", ") + Code(of[i]);
    if (of.size() > cap) keys += " and " + std::to_string(of.size() - cap) + " more trials";
    out += "Worker environment of " + keys + ":\n\n";
    out += MarkdownFence(nlohmann::json::parse(e).dump(2), "json") + "\n";
  }
  out += "Full provenance of every trial: `provenance.json`.\n";
}

}  // namespace

std::string RenderProseMarkdown(const Prose& prose, bool in_table) {
  std::string out;
  for (const Span& s : prose.spans()) {
    switch (s.kind) {
      case SpanKind::kText:
        out += s.text;
        break;
      case SpanKind::kUserText:
        out += MarkdownEscape(s.text);
        break;
      case SpanKind::kCode:
      case SpanKind::kKey:
        out += MarkdownCode(s.text, in_table);
        break;
    }
  }
  return out;
}

std::string RenderMarkdownReport(const MarkdownInputs& in) {
  const ReportModel& m = *in.model;
  std::string out = "# Report: " + MarkdownEscape(m.sweep.name) + "\n\n";
  out += "Generated by `orch report` from the recorded sweep " + Code(m.sweep.name) +
         " (spec sha256 " + Code(m.sweep.spec_hash.substr(0, 12)) + ").\n\n";
  Context(m, out);
  int n = 0;
  out += "## 2. Studies\n\n";
  for (size_t i = 0; i < m.studies.size(); ++i) {
    StudySection(m, m.studies[i], in.figures[i],
                 i < in.maps.size() ? in.maps[i] : std::optional<FailureMap>(), ++n, out);
  }
  const size_t cap = HasBigStudy(m) ? kBigSweepListCap : kNoCap;
  int section = 3;
  if (in.debugging) DebuggingSection(*in.debugging, std::to_string(section++), cap, out);
  if (in.pairing) StackSection(*in.pairing, std::to_string(section++), m.min_effect, cap, out);
  out += "## " + std::to_string(section++) + ". Conclusion\n\nWhat the data supports:\n\n";
  for (const Prose& p : m.conclusions) {
    if (cap == kNoCap || p.spans().size() <= 4 * kBigSweepListCap) {
      out += "- " + RenderProseMarkdown(p) + "\n";
      continue;
    }
    // A conclusion that names every cell of a big study: its first cells, then a pointer.
    out += "- " + RenderProseMarkdown(FirstSpans(p, 4 * kBigSweepListCap)) + " ... (cut here: the full list is in `report.html`)\n";
  }
  if (m.conclusions.empty()) out += "- Nothing yet: no cell is done.\n";
  out += "\n";
  if (!m.sweep.conclusion.empty()) out += "From the spec:\n\n" + Paragraphs(m.sweep.conclusion);
  out += "## " + std::to_string(section++) + ". Suggested writeup snippet\n\n" +
         in.snippet_markdown + "\n";
  Appendix(m, std::to_string(section), cap, out);
  return out;
}

}  // namespace orch::report

namespace orch::report {

std::string RenderComparisonMarkdown(const SweepComparison& c) {
  std::string out = "# Comparison: " + MarkdownEscape(c.first_name) + " vs " +
                    MarkdownEscape(c.second_name) + "\n\n";
  std::string ignored;
  for (const std::string& k : c.ignored_keys) ignored += (ignored.empty() ? "" : ", ") + Code(k);
  out += "Generated by `orch compare`. Cells are joined on their configuration without " +
         ignored +
         ". Ratios are TPOT median second/first with the 95% CI from the two cells' replicates "
         "(Student t on their log medians); slower or faster only when the CI excludes 1 "
         "and the change exceeds +/-" + FormatPercent(c.min_effect) +
         ", never from one replicate. PPL change is second/first - 1, stable within +/-" +
         FormatPercent(c.ppl_tolerance) + ".\n\n";
  out += "- First: " + MarkdownEscape(c.first_name) + ", hardware " + List(c.first_hardware) + "\n";
  out += "- Second: " + MarkdownEscape(c.second_name) + ", hardware " + List(c.second_hardware) +
         "\n";
  out += "- Joined cells: " + std::to_string(c.joined.size()) + " (slower " +
         std::to_string(c.slower) + ", faster " + std::to_string(c.faster) +
         ", no measurable difference " + std::to_string(c.no_difference) + ", not compared " +
         std::to_string(c.not_compared) + "); outcomes differ in " +
         std::to_string(c.differing_outcomes) + "; only in the first sweep " +
         std::to_string(c.only_first.size()) + ", only in the second " +
         std::to_string(c.only_second.size()) + "\n\n";
  out += "## Joined cells\n\n";
  if (c.joined.empty()) {
    out += "No cell of one sweep has the configuration of a cell of the other.\n\n";
  } else {
    PairTable(c.joined, "first", "second", false, "", out);
  }
  out += "## Outcomes that differ\n\n";
  DifferingOutcomes(c.joined, "first", "second", "", out);
  auto unjoined = [&](const std::vector<SweepComparison::Unjoined>& list, const char* title) {
    out += std::string("## ") + title + "\n\n";
    if (list.empty()) out += "None.\n";
    for (const SweepComparison::Unjoined& u : list) {
      out += "- " + Code(u.cell.short_key) + " " + OutcomeText(u.cell) + ", config " +
             Code(u.cell.config.json) + ": " + MarkdownEscape(u.why) + "\n";
    }
    out += "\n";
  };
  unjoined(c.only_first, "Only in the first sweep");
  unjoined(c.only_second, "Only in the second sweep");
  return out;
}

}  // namespace orch::report
