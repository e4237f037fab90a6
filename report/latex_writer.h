// LaTeX output of the report: tables.tex (a booktabs table per study plus a summary
// table, failure maps, the stack comparison) and figures.tex (figure environments for the PDF figures), meant to be \input
// into a paper whose preamble loads booktabs, graphicx and T1 fontenc. Numbers are
// formatted by number_format, failures appear as text, every user string is escaped.
// Pure functions of the model; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/failure_map.h"
#include "report/figures.h"
#include "report/pairing.h"
#include "report/model.h"
#include "report/prose.h"

namespace orch::report {

// `maps` parallel to the studies (a failure-map table per map); `pairing`: the stack
// comparison table, when the sweep has one.
std::string RenderLatexTables(const ReportModel& model,
                              const std::vector<std::optional<FailureMap>>& maps = {},
                              const KeyPairing* pairing = nullptr);
// `dir` is the figures' directory as the paper sees it ("figures").
std::string RenderLatexFigures(const ReportModel& model, const std::vector<FigureNames>& names,
                               const std::string& dir,
                               const std::vector<std::optional<FailureMap>>& maps = {});
std::string RenderProseLatex(const Prose& prose);

// The preamble lines the generated files need (documented and used by the tests).
std::string LatexPreambleRequirements();

}  // namespace orch::report
