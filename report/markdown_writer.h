// Markdown output: report.md, the failure report in the structure of a written
// negative result (context, one section per study, conclusion, snippet, appendix).
// Renders the ReportModel only; every user string is escaped. Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "report/figures.h"
#include "report/model.h"
#include "report/prose.h"
#include "report/snapshot.h"

namespace orch::report {

struct MarkdownInputs {
  const ReportModel* model = nullptr;
  std::vector<FigureNames> figures;  // parallel to model->studies, SVGs under figures/
  std::string snippet_markdown;
};

std::string RenderMarkdownReport(const MarkdownInputs& in);
// `in_table`: escapes for a GFM table cell.
std::string RenderProseMarkdown(const Prose& prose, bool in_table = false);

}  // namespace orch::report
