// report.md for big studies (study_summary.h): the summary section that replaces a
// study's full table, observations and failure map, and the appendix line that replaces
// the list of every trial when a sweep has a big study. report.html and
// `orch export --format csv` hold the full tables. Pure; any thread.
#pragma once

#include <string>

#include "report/model.h"

namespace orch::report {

// The body of a big study's section, after its settings line.
std::string RenderStudySummaryMarkdown(const Study& study, const std::string& sweep_name);

// "Every trial" of the appendix for a sweep with a big study: counts by outcome and
// where the full list is.
std::string RenderTrialCountsMarkdown(const ReportModel& model);

}  // namespace orch::report
