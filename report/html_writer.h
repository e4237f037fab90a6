// report.html: the report as one self-contained page (no network: no CDN, no web fonts,
// no external file). The report's own order: snapshot, context and goal, per study its
// settings, trial table, figures (the SVGs inline), failure map; debugging steps,
// conclusion and snippet, provenance. The trial tables, the trial panel (config, every
// attempt, metrics, warnings, `orch show KEY`) and the filters are drawn by our own
// script (report/html/page.js) from the embedded JSON (html_data.h); a CSP meta tag
// allows only that script and the page's style. Pure; any thread (the data is rendered
// on two, html_data.h).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/debugging.h"
#include "report/failure_map.h"
#include "report/model.h"
#include "report/prose.h"
#include "report/snapshot.h"

namespace orch::report {

struct HtmlInputs {
  const ReportModel* model = nullptr;
  const SweepSnapshot* snapshot = nullptr;
  // Parallel to model->studies: the TPOT and PPL figures as SVG documents.
  std::vector<std::string> tpot_svg, ppl_svg;
  std::vector<std::optional<FailureMap>> maps;  // parallel to studies
  const DebuggingSteps* debugging = nullptr;
  std::vector<Prose> snippet;
};

std::string RenderHtmlReport(const HtmlInputs& in);

// The same page handed to `emit` in pieces (the page data whole trials at a time), so that a
// writer never holds it whole (48 MB at 100,000 trials, issue 18).
void EmitHtmlReport(const HtmlInputs& in, const std::function<void(std::string_view)>& emit);

// The page's script and style (embedded from report/html/ at build time).
std::string_view HtmlPageScript();
std::string_view HtmlPageStyle();

}  // namespace orch::report
