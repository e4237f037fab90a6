// SVG rendering of the report's figures, for report.md: hand-written markup (no
// library), fixed number formatting, so the same plot gives the same bytes. Pure.
#pragma once

#include <string>

#include "report/failure_map.h"
#include "report/figures.h"

namespace orch::report {

std::string RenderSvg(const DotPlot& plot);
std::string RenderSvg(const FailureMap& map);

}  // namespace orch::report
