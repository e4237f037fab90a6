// PDF rendering of the report's figures, for \includegraphics in LaTeX: a one-page
// PDF 1.4 written by hand (vector lines and Helvetica text, a standard font that
// every viewer has, so nothing is embedded), with a correct xref table. No dates or
// IDs are written, so the same plot gives the same bytes. Pure.
#pragma once

#include <string>

#include "report/failure_map.h"
#include "report/figures.h"

namespace orch::report {

std::string RenderPdf(const DotPlot& plot);
std::string RenderPdf(const FailureMap& map);

}  // namespace orch::report
