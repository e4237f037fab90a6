// The suggested writeup paragraph for the paper: what was run, what failed, and per
// study the comparisons with the baseline, each number with its trial key. Built once
// as Prose and rendered to markdown (snippet.md, section 4 of report.md) and LaTeX
// (snippet.tex). Pure; any thread.
#pragma once

#include <string>
#include <vector>

#include "report/model.h"
#include "report/prose.h"

namespace orch::report {

// Sentences of the paragraph, in order.
std::vector<Prose> BuildSnippet(const ReportModel& model);

std::string RenderSnippetMarkdown(const std::vector<Prose>& snippet);
std::string RenderSnippetLatex(const std::vector<Prose>& snippet);

}  // namespace orch::report
