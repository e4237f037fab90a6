// Markdown output: report.md, the failure report in the structure of a written
// negative result (context, one section per study with its failure map, debugging steps, the
// stack comparison when cells differ by `worker`, conclusion, snippet, appendix).
// Renders the ReportModel only; every user string is escaped. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/compare.h"
#include "report/debugging.h"
#include "report/failure_map.h"
#include "report/figures.h"
#include "report/pairing.h"
#include "report/model.h"
#include "report/prose.h"
#include "report/snapshot.h"

namespace orch::report {

struct MarkdownInputs {
  const ReportModel* model = nullptr;
  std::vector<FigureNames> figures;  // parallel to model->studies, SVGs under figures/
  std::string snippet_markdown;
  std::vector<std::optional<FailureMap>> maps;  // parallel to studies; none for small ones
  const DebuggingSteps* debugging = nullptr;
  const KeyPairing* pairing = nullptr;  // the stack comparison, when cells differ in the key
};

std::string RenderMarkdownReport(const MarkdownInputs& in);
// `in_table`: escapes for a GFM table cell.
std::string RenderProseMarkdown(const Prose& prose, bool in_table = false);

// compare.md of `orch compare`.
std::string RenderComparisonMarkdown(const SweepComparison& comparison);

}  // namespace orch::report
