// The suggested writeup paragraph for the paper, under ~150 words: the question, the
// headline (the best speed-up at stable perplexity with its interval and trial key, or
// that there was none and the closest ratio), failures by class with counts, and one
// sentence of method (tokens, repeats, hardware, the verdict rule). Built once
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
