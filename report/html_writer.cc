#include "report/html_writer.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "report/cell_label.h"
#include "report/figures.h"
#include "report/html_data.h"
#include "report/html_text.h"
#include "report/number_format.h"
#include "report/study_summary.h"
#include "report/text_escape.h"
#include "report/trial_index.h"

namespace orch::report {
namespace {

// A list longer than this shows its first entries and says how many more there are.
constexpr size_t kListCap = 100;
// A conclusion longer than this many spans (one per cell named) is cut.
constexpr size_t kMaxSpans = 200;
static_assert(kMaxSpans < kKeptConclusionSpans, "the model keeps more spans than a page shows");

std::string Paragraphs(const std::string& text) {
  std::string out;
  for (const std::string& p : SplitParagraphs(text)) out += "<p>" + HtmlEscape(p) + "</p>\n";
  return out;
}

std::string CodeList(const std::vector<std::string>& values) {
  if (values.empty()) return "not recorded";
  std::string out;
  for (const std::string& v : values)
    out += (out.empty() ? "" : ", ") + ("<code>" + HtmlEscape(v) + "</code>");
  return out;
}

// An SVG document without its XML declaration, to sit inside the page.
std::string InlineSvg(const std::string& svg) {
  const size_t start = svg.find("<svg");
  return start == std::string::npos ? std::string() : svg.substr(start);
}

void Snapshot(const ReportModel& m, const SnapshotState& st, std::string& out) {
  out += "<div class=\"snapshot\" id=\"snapshot\"><strong>Snapshot</strong> of <time>" +
         HtmlEscape(st.time_utc.empty() ? "no recorded time" : st.time_utc) +
         "</time> (UTC, the newest time recorded in the database): " + std::to_string(st.total) +
         " trials, <span class=\"n-done\">" + std::to_string(st.done) + " done</span> (" +
         std::to_string(st.done - st.failed) + " ok, " + std::to_string(st.failed) +
         " failed), <span class=\"n-running\">" + std::to_string(st.running) +
         " running</span>, <span class=\"n-pending\">" + std::to_string(st.pending) +
         " pending</span>";
  if (st.stale > 0) out += "; " + std::to_string(st.stale) + " stale trials left out";
  out += ".";
  if (st.running + st.pending > 0)
    out += " The sweep is not finished: rerun <code>orch report</code> for a newer snapshot.";
  out += "</div>\n";
  (void)m;
}

void Context(const ReportModel& m, std::string& out) {
  out += "<section id=\"context\"><h2>1. Context and goal</h2>\n";
  out += m.sweep.context.empty() ? "<p>The spec gives no <code>context</code>.</p>\n"
                                 : Paragraphs(m.sweep.context);
  out += "<ul class=\"recorded\">\n<li>Hardware: " + CodeList(m.hardware) +
         "</li>\n<li>Build: " + CodeList(m.builds) + "</li>\n<li>Model: " + CodeList(m.models) +
         "; dataset: " + CodeList(m.datasets) +
         "</li>\n<li>Methods (quantization): " + CodeList(m.methods) +
         "</li>\n<li>dtype: " + CodeList(m.dtypes) + "; KV window: " + CodeList(m.windows) +
         "; compile: " + CodeList(m.compile_modes) + "; tokens: " + CodeList(m.tokens) +
         "</li>\n</ul>\n";
  if (!m.profile.empty()) {
    out +=
        "<h3>Where the decode step spends its time</h3>\n<table "
        "class=\"static\"><tr><th>Cell</th><th>Step [ms]</th>";
    for (const auto& [name, v] : m.profile.front().shares)
      out += "<th>" + HtmlEscape(name) + "</th>";
    out += "<th>Trial</th></tr>\n";
    for (const ProfileRow& r : m.profile) {
      out += "<tr><td>" + HtmlEscape(r.label) + "</td><td class=\"num\">" +
             (r.step_ms ? FormatMs(*r.step_ms) : "--") + "</td>";
      for (const auto& [name, v] : m.profile.front().shares) {
        std::string cell = "--";
        for (const auto& [n2, share] : r.shares) {
          if (n2 == name) cell = FormatPercent(share);
        }
        out += "<td class=\"num\">" + cell + "</td>";
      }
      out += "<td>" + KeyLink(r.short_key) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "</section>\n";
}

void FailureMapHtml(const FailureMap& map, std::string& out) {
  out += "<h4>Failure map</h4>\n<p>Rows <code>" + HtmlEscape(map.row_axis) + "</code>" +
         (map.col_axis.empty() ? "" : ", columns <code>" + HtmlEscape(map.col_axis) + "</code>") +
         " (" + HtmlEscape(map.axes_how) +
         "). Each grid cell lists its trials, or counts them "
         "by outcome when there are more than four.</p>\n<div class=\"scroll\"><table "
         "class=\"map\"><tr><th>" +
         HtmlEscape(map.row_axis) + "</th>";
  for (const std::string& c : map.cols)
    out += "<th>" + (map.col_axis.empty() ? "" : HtmlEscape(map.col_axis) + "=") + HtmlEscape(c) +
           "</th>";
  out += "</tr>\n";
  for (size_t r = 0; r < map.rows.size(); ++r) {
    out += "<tr><th><code>" + HtmlEscape(map.rows[r]) + "</code></th>";
    for (size_t c = 0; c < map.cols.size(); ++c) {
      const std::vector<MapEntry>& entries = map.grid[r][c];
      std::map<std::string, int> counts;
      for (const MapEntry& e : entries) ++counts[e.outcome];
      std::string worst = entries.empty() ? "" : "ok";
      for (const auto& [o, n] : counts) {
        if (o != "ok") worst = o;
      }
      out += "<td data-outcome=\"" + HtmlEscape(worst) + "\">";
      if (entries.empty()) out += "--";
      if (entries.size() <= 4) {
        for (size_t i = 0; i < entries.size(); ++i) {
          out += std::string(i ? "<br>" : "") + HtmlEscape(entries[i].outcome) + " " +
                 KeyLink(entries[i].short_key) +
                 (entries[i].extra.empty() ? "" : " (" + HtmlEscape(entries[i].extra) + ")");
        }
      } else {
        bool first = true;
        for (const auto& [o, n] : counts) {
          out += std::string(first ? "" : ", ") + HtmlEscape(o) + " " + std::to_string(n);
          first = false;
        }
      }
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</table></div>\n";
  for (const FailureMap::FrontierRow& f : map.frontier) {
    std::string oom, fits;
    for (const std::string& v : f.oom) oom += (oom.empty() ? "" : ", ") + HtmlEscape(v);
    for (const std::string& v : f.fits) fits += (fits.empty() ? "" : ", ") + HtmlEscape(v);
    out += "<p>Out-of-memory frontier, " + HtmlEscape(map.row_axis) + " <code>" +
           HtmlEscape(f.row) + "</code>: out of memory" +
           (map.col_axis.empty() ? "" : " at " + HtmlEscape(map.col_axis) + " " + oom) +
           (fits.empty() ? "" : "; ok at " + fits) + ".</p>\n";
  }
}

// A big study's failure map: collapsed to the axes that explain its failures, as in
// report.md (study_summary.h); the trial table shows every cell.
void CollapsedMapHtml(const Study& s, std::string& out) {
  const std::shared_ptr<const StudySummary> summary = SummaryOf(s);
  const StudySummary& sum = *summary;
  if (sum.map.axes.empty()) return;
  std::string axes;
  for (const std::string& a : sum.map.axes)
    axes += (axes.empty() ? "" : " x ") + ("<code>" + HtmlEscape(a) + "</code>");
  out += "<h4>Failure map</h4>\n<p>Collapsed to " + axes +
         ", the axes that separate failed from ok "
         "cells best (" +
         std::to_string(sum.map.unexplained) +
         " finished cells in groups that mix both); groups with a failure only.</p>\n"
         "<table class=\"static\"><tr>";
  for (const std::string& a : sum.map.axes) out += "<th>" + HtmlEscape(a) + "</th>";
  out += "<th>Cells</th><th>Failed</th><th>Failures by class</th></tr>\n";
  for (const CollapsedMap::Group& g : sum.map.groups) {
    if (g.failed == 0) continue;
    out += "<tr>";
    for (const std::string& v : g.values) out += "<td><code>" + HtmlEscape(v) + "</code></td>";
    std::string classes;
    for (const auto& [c, n] : g.classes)
      classes += (classes.empty() ? "" : ", ") + HtmlEscape(c) + " " + std::to_string(n);
    out += "<td class=\"num\">" + std::to_string(g.cells) + "</td><td class=\"num\">" +
           std::to_string(g.failed) + "</td><td>" + classes + "</td></tr>\n";
  }
  out += "</table>\n";
}

void StudySection(const HtmlInputs& in, size_t i, std::string& out) {
  const Study& s = in.model->studies[i];
  const bool big = IsBigStudy(s);
  out += "<section class=\"study\" id=\"study-" + std::to_string(i) + "\"><h3>2." +
         std::to_string(i + 1) + " Study " + HtmlEscape(s.id) + ": " + HtmlEscape(s.title) +
         "</h3>\n<p><strong>Settings.</strong> " + std::to_string(s.cells.size()) +
         (s.cells.size() == 1 ? " cell" : " cells");
  std::string varying;
  for (const std::string& f : s.varying) varying += (varying.empty() ? "" : ", ") + HtmlEscape(f);
  out += "; varying: " + (varying.empty() ? std::string("nothing") : varying);
  std::string constant;
  for (const auto& [f, value] : FixedFields(s)) {
    constant += (constant.empty() ? "" : ", ") + f + "=<code>" + HtmlEscape(value) + "</code>";
  }
  if (!constant.empty()) out += "; fixed: " + constant;
  out += ". " + RenderProseHtml(s.baseline_line) + "</p>\n";
  out += "<div class=\"trials\" data-study=\"" + std::to_string(i) +
         "\"><noscript>The trial table needs JavaScript; report.md and "
         "<code>orch export</code> hold the same numbers.</noscript></div>\n";
  if (!s.cells.empty()) {
    // A big study's figures show its fastest and slowest cells (figures.h); the table
    // above holds them all.
    const std::string ranked = std::to_string(kBigPlotRanked);
    out += "<div class=\"figures\"><figure>" + InlineSvg(in.tpot_svg[i]) + "<figcaption>" +
           (big ? "TPOT of the " + ranked + " fastest and " + ranked + " slowest cells" :
                  std::string("TPOT per variant")) +
           ", study " + HtmlEscape(s.id) + "</figcaption></figure><figure>" +
           InlineSvg(in.ppl_svg[i]) + "<figcaption>" +
           (big ? "PPL of the " + ranked + " lowest and " + ranked + " highest cells" :
                  std::string("PPL per variant and window")) +
           ", study " + HtmlEscape(s.id) + "</figcaption></figure></div>\n";
  }
  if (!big) {
    std::string ok, failed;
    for (size_t c = 0; c < s.cells.size(); ++c)
      (s.cells[c].ok() ? ok : failed) += "<li>" + RenderProseHtml(s.observations[c]) + "</li>\n";
    out += "<h4>Observations</h4>\n<ul>" +
           (ok.empty() ? "<li>No cell produced measurements.</li>" : ok) + "</ul>\n";
    if (!failed.empty()) out += "<h4>Cells without measurements</h4>\n<ul>" + failed + "</ul>\n";
  }
  if (big) {
    CollapsedMapHtml(s, out);
  } else if (i < in.maps.size() && in.maps[i]) {
    FailureMapHtml(*in.maps[i], out);
  }
  if (!s.notes.empty()) out += "<h4>Notes from the spec</h4>\n" + Paragraphs(s.notes);
  out += "</section>\n";
}

void Findings(const std::vector<Finding>& list, const std::string& none, std::string& out) {
  if (list.empty()) {
    out += "<p>" + none + "</p>\n";
    return;
  }
  out += "<ul>\n";
  for (size_t i = 0; i < list.size() && i < kListCap; ++i) {
    out += "<li>" + RenderProseHtml(list[i].line);
    if (!list[i].details.empty()) {
      out += "<ul>";
      for (const Prose& d : list[i].details) out += "<li>" + RenderProseHtml(d) + "</li>";
      out += "</ul>";
    }
    out += "</li>\n";
  }
  out += "</ul>\n";
  if (list.size() > kListCap)
    out += "<p>" + std::to_string(list.size() - kListCap) +
           " more: filter the trial tables by outcome, or see report.md.</p>\n";
}

void Debugging(const DebuggingSteps& d, std::string& out) {
  out +=
      "<section id=\"debugging\"><h2>3. Debugging steps</h2>\n<p>What the trials found on "
      "the way; every line names its trial key (click it for the attempts).</p>\n";
  out += "<h3>Sanity trials: first non-finite layer per variant</h3>\n";
  Findings(d.sanity, "No <code>mode: sanity</code> trials in this sweep.", out);
  out += "<h3>Non-finite values in other trials</h3>\n";
  Findings(d.non_finite, "None.", out);
  out += "<h3>Blocked cells, grouped by reason</h3>\n";
  Findings(d.blocked, "None.", out);
  out += "<h3>Retried cells and what differed between their attempts</h3>\n";
  Findings(d.retries, "No cell needed more than one attempt.", out);
  out += "</section>\n";
}

void Conclusion(const HtmlInputs& in, std::string& out) {
  const ReportModel& m = *in.model;
  out +=
      "<section id=\"conclusion\"><h2>4. Conclusion</h2>\n<p>What the data supports:</p>\n<ul>\n";
  for (const Prose& p : m.conclusions) {
    if (p.spans().size() <= kMaxSpans) {
      out += "<li>" + RenderProseHtml(p) + "</li>\n";
      continue;
    }
    // A conclusion that names every cell of a big study: its first cells, then a pointer.
    out += "<li>" + RenderProseHtml(FirstSpans(p, kMaxSpans)) +
           " ... (cut here: every trial is in the tables above)</li>\n";
  }
  if (m.conclusions.empty()) out += "<li>Nothing yet: no cell is done.</li>\n";
  out += "</ul>\n";
  if (!m.sweep.conclusion.empty())
    out += "<p>From the spec:</p>\n" + Paragraphs(m.sweep.conclusion);
  out += "<h3>Suggested writeup snippet</h3>\n<div class=\"snippet\">\n";
  for (const Prose& p : in.snippet) out += "<p>" + RenderProseHtml(p) + "</p>\n";
  out += "</div></section>\n";
}

void Provenance(const ReportModel& m, const TrialIndex& index, std::string& out) {
  out += "<section id=\"provenance\"><h2>5. Provenance</h2>\n";
  for (const RunInfo& r : m.runs) {
    out += "<details><summary>Run " + std::to_string(r.id) + ", started " +
           HtmlEscape(r.started_utc) +
           (r.finished_utc.empty() ? "" : ", finished " + HtmlEscape(r.finished_utc)) +
           (r.exit_code ? ", exit code " + std::to_string(*r.exit_code) : "") + "</summary>\n";
    const nlohmann::json j = nlohmann::json::parse(r.provenance_json, nullptr, false);
    out += "<pre>" + HtmlEscape(j.is_discarded() ? r.provenance_json : j.dump(2)) +
           "</pre></details>\n";
  }
  // Each distinct worker environment with how many trials recorded it and the first:
  // hashed views, the last one checked first (a std::map compared whole environment
  // texts ~17 times per trial, issue 18), over the trials of the index (each once).
  struct EnvGroup {
    std::string_view env, first_key;
    size_t trials = 0;
  };
  std::vector<EnvGroup> groups;
  std::unordered_map<std::string_view, size_t> group_of;
  size_t last = 0;
  for (const Cell* c : index.trials()) {
    const std::string& e = c->worker_environment_json;
    if (e == "{}") continue;
    if (groups.empty() || groups[last].env != e) {
      auto [it, added] = group_of.try_emplace(e, groups.size());
      if (added) groups.push_back({e, c->short_key, 0});
      last = it->second;
    }
    ++groups[last].trials;
  }
  for (const EnvGroup& g : groups) {
    out += "<details><summary>Worker environment of " + std::to_string(g.trials) +
           (g.trials == 1 ? " trial" : " trials") + " (first " + HtmlEscape(g.first_key) +
           ")</summary>\n";
    const nlohmann::json j = nlohmann::json::parse(g.env, nullptr, false);
    out += "<pre>" + HtmlEscape(j.is_discarded() ? std::string(g.env) : j.dump(2)) +
           "</pre></details>\n";
  }
  out += "<p>Full provenance of every trial: <code>provenance.json</code>.</p></section>\n";
}

}  // namespace

std::string RenderHtmlReport(const HtmlInputs& in) {
  std::string text;
  EmitHtmlReport(in, [&](std::string_view piece) { text.append(piece); });
  return text;
}

void EmitHtmlReport(const HtmlInputs& in, const std::function<void(std::string_view)>& emit) {
  const ReportModel& m = *in.model;
  const std::string_view script = HtmlPageScript(), style = HtmlPageStyle();
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src " +
      CspHash(script) + "; style-src " + CspHash(style) +
      "; img-src data:; base-uri 'none'; form-action 'none'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Report: " +
      HtmlEscape(m.sweep.name) + "</title>\n<style>" + std::string(style) +
      "</style>\n</head><body>\n";
  out += "<main>\n<h1>Report: " + HtmlEscape(m.sweep.name) +
         "</h1>\n<p>Generated by <code>orch "
         "report</code> from the recorded sweep <code>" +
         HtmlEscape(m.sweep.name) + "</code> (spec sha256 <code>" +
         HtmlEscape(m.sweep.spec_hash.substr(0, 12)) +
         "</code>). Every number links to its trial: click a row or a key.</p>\n";
  // Shown here and in the data, each made once.
  const SnapshotState state = SnapshotStateOf(*in.snapshot);
  const TrialIndex index(m);
  Snapshot(m, state, out);
  out +=
      "<nav><a href=\"#context\">Context</a> <a href=\"#studies\">Studies</a> <a "
      "href=\"#debugging\">Debugging steps</a> <a href=\"#conclusion\">Conclusion</a> <a "
      "href=\"#provenance\">Provenance</a></nav>\n";
  Context(m, out);
  out += "<section id=\"studies\"><h2>2. Studies</h2>\n";
  for (size_t i = 0; i < m.studies.size(); ++i) StudySection(in, i, out);
  out += "</section>\n";
  if (in.debugging) Debugging(*in.debugging, out);
  Conclusion(in, out);
  Provenance(m, index, out);
  out += "</main>\n<aside id=\"panel\" hidden></aside>\n";
  out += "<script type=\"application/json\" id=\"orch-data\">";
  emit(out);
  std::string().swap(out);
  // The page's largest part, escaped and handed on piece by piece (html_data.h).
  EmitHtmlData(m, *in.snapshot, index, state, [&](std::string_view piece) {
    out.clear();
    AppendJsonForScript(piece, out);
    emit(out);
  });
  emit("</script>\n<script>");
  emit(script);
  emit("</script>\n</body></html>\n");
}

}  // namespace orch::report
