#include "report/markdown_writer.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "report/cell_label.h"
#include "report/number_format.h"
#include "report/text_escape.h"

namespace orch::report {
namespace {

std::string Code(const std::string& s, bool in_table = false) { return MarkdownCode(s, in_table); }

std::string Ci(const Interval& ci, std::string (*fmt)(double)) {
  return "[" + fmt(ci.lo) + ", " + fmt(ci.hi) + "]";
}

// Spec text (context, notes, conclusion) is plain text: paragraphs kept, markup escaped.
std::string Paragraphs(const std::string& text) {
  std::string out, para;
  auto flush = [&] {
    if (!para.empty()) out += MarkdownEscape(para) + "\n\n";
    para.clear();
  };
  size_t b = 0;
  while (b <= text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(b, e - b);
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      flush();
    } else {
      para += (para.empty() ? "" : " ") + line;
    }
    b = e + 1;
  }
  flush();
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
  std::set<std::string> seen;
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

void StudySection(const ReportModel& m, const Study& s, const FigureNames& fig, int n,
                  std::string& out) {
  out += "### 2." + std::to_string(n) + " Study " + MarkdownEscape(s.id) + ": " +
         MarkdownEscape(s.title) + "\n\n";
  out += "**Settings.** " + std::to_string(s.cells.size()) +
         (s.cells.size() == 1 ? " cell" : " cells");
  if (!s.cells.empty()) {
    std::string constant;
    for (const char* f : {"quant", "scope", "window", "n_sink", "dtype", "compile", "mode",
                          "tokens", "model", "dataset", "device"}) {
      if (std::find(s.varying.begin(), s.varying.end(), f) != s.varying.end()) continue;
      const std::string value = ConfigField(s.cells.front().config, f);
      if (value.empty()) continue;  // not in the config (no model for a fake worker)
      constant += (constant.empty() ? "" : ", ") + std::string(f) + "=" + Code(value);
    }
    std::string varying;
    for (const std::string& f : s.varying) varying += (varying.empty() ? "" : ", ") + f;
    out += "; varying: " + (varying.empty() ? std::string("nothing") : varying);
    if (!constant.empty()) out += "; fixed: " + constant;
  }
  out += ". " + RenderProseMarkdown(s.baseline_line) + "\n\n";
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
  out += "PPL is called stable within +/-" + FormatPercent(m.ppl_tolerance) +
         " of the baseline; slower or faster only when the 95% CI of the TPOT median ratio "
         "(two-level bootstrap: repeats, then tokens within each) excludes 1 and the change "
         "exceeds +/-" + FormatPercent(m.min_effect) +
         "; with one repeat the interval covers within-run spread only and no such claim is "
         "made.\n\n";
  if (!s.notes.empty()) out += "**Notes from the spec.**\n\n" + Paragraphs(s.notes);
}

void Appendix(const ReportModel& m, std::string& out) {
  out += "## 5. Appendix\n\n### 5.1 Every trial\n\n";
  std::map<std::string, std::vector<std::string>> studies_of;
  std::vector<const Cell*> cells;
  for (const Study& s : m.studies) {
    for (const Cell& c : s.cells) {
      if (studies_of[c.key].empty()) cells.push_back(&c);
      studies_of[c.key].push_back(s.id);
    }
  }
  for (const Cell* c : cells) {
    std::string in;
    for (const std::string& id : studies_of[c->key])
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
  out += "\n### 5.2 Methodology warnings recorded by workers\n\n";
  bool any = false;
  for (const Cell* c : cells) {
    for (const std::string& w : c->warnings) {
      out += "- " + Code(c->short_key) + ": " + MarkdownEscape(w) + "\n";
      any = true;
    }
  }
  out += any ? "\n" : "None.\n\n";
  out += "### 5.3 Environment\n\n";
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
    for (const std::string& k : env_keys[e]) keys += (keys.empty() ? "" : ", ") + Code(k);
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
  for (size_t i = 0; i < m.studies.size(); ++i)
    StudySection(m, m.studies[i], in.figures[i], ++n, out);
  out += "## 3. Conclusion\n\nWhat the data supports:\n\n";
  for (const Prose& p : m.conclusions) out += "- " + RenderProseMarkdown(p) + "\n";
  if (m.conclusions.empty()) out += "- Nothing yet: no cell is done.\n";
  out += "\n";
  if (!m.sweep.conclusion.empty()) out += "From the spec:\n\n" + Paragraphs(m.sweep.conclusion);
  out += "## 4. Suggested writeup snippet\n\n" + in.snippet_markdown + "\n";
  Appendix(m, out);
  return out;
}

}  // namespace orch::report
