// LaTeX output of the report: tables.tex (a booktabs table per study plus a summary
// table) and figures.tex (figure environments for the PDF figures), meant to be \input
// into a paper whose preamble loads booktabs, graphicx and T1 fontenc. Numbers are
// formatted by number_format, failures appear as text, every user string is escaped.
// Pure functions of the model; any thread.
#pragma once

#include <string>
#include <vector>

#include "report/figures.h"
#include "report/model.h"
#include "report/prose.h"

namespace orch::report {

std::string RenderLatexTables(const ReportModel& model);
// `dir` is the figures' directory as the paper sees it ("figures").
std::string RenderLatexFigures(const ReportModel& model, const std::vector<FigureNames>& names,
                               const std::string& dir);
std::string RenderProseLatex(const Prose& prose);

// The preamble lines the generated files need (documented and used by the tests).
std::string LatexPreambleRequirements();

}  // namespace orch::report
