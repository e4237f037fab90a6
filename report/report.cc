#include "report/report.h"

#include <filesystem>
#include <system_error>

#include "base/atomic_file.h"
#include "report/facts.h"
#include "report/figures.h"
#include "report/latex_writer.h"
#include "report/markdown_writer.h"
#include "report/pdf_figures.h"
#include "report/provenance.h"
#include "report/snippet.h"
#include "report/svg_figures.h"

namespace orch::report {

StatusOr<ReportFiles> RenderReport(const SweepSnapshot& snapshot, const ReportOptions& opts) {
  FactsOptions facts;
  facts.ppl_tolerance = opts.ppl_tolerance;
  facts.min_effect = opts.min_effect;
  facts.bootstrap = opts.bootstrap;
  if (facts.bootstrap.resamples < 1 || !(facts.bootstrap.confidence > 0) ||
      !(facts.bootstrap.confidence < 1) || !(facts.ppl_tolerance >= 0) ||
      !(facts.min_effect >= 0 && facts.min_effect < 1)) {
    return Status::Error(
        "report options: resamples >= 1, confidence in (0, 1), a non-negative PPL tolerance "
        "and a minimum effect in [0, 1) are required");
  }
  StatusOr<ReportModel> model = BuildModel(snapshot, facts);
  if (!model.ok()) return model.status().WithContext("sweep " + snapshot.sweep.name);

  ReportFiles files;
  const std::vector<FigureNames> names = FigureNamesFor(*model);
  for (size_t i = 0; i < model->studies.size(); ++i) {
    const DotPlot tpot = TpotPlot(model->studies[i]);
    const DotPlot ppl = PplPlot(model->studies[i]);
    files["figures/" + names[i].tpot + ".svg"] = RenderSvg(tpot);
    files["figures/" + names[i].tpot + ".pdf"] = RenderPdf(tpot);
    files["figures/" + names[i].ppl + ".svg"] = RenderSvg(ppl);
    files["figures/" + names[i].ppl + ".pdf"] = RenderPdf(ppl);
  }
  files["figures/figures.tex"] = RenderLatexFigures(*model, names, "figures");
  const std::vector<Prose> snippet = BuildSnippet(*model);
  files["snippet.md"] = RenderSnippetMarkdown(snippet);
  files["snippet.tex"] = RenderSnippetLatex(snippet);
  files["tables.tex"] = RenderLatexTables(*model);
  files["provenance.json"] = RenderProvenanceJson(snapshot, *model);
  MarkdownInputs md{&*model, names, files["snippet.md"]};
  files["report.md"] = RenderMarkdownReport(md);
  return files;
}

Status WriteReport(const store::Store& db, const ReportOptions& opts) {
  if (opts.out_dir.empty()) return Status::Error("report: an output directory (--out) is required");
  StatusOr<SweepSnapshot> snapshot = LoadSnapshot(db, opts.sweep_name);
  if (!snapshot.ok()) return snapshot.status();
  StatusOr<ReportFiles> files = RenderReport(*snapshot, opts);
  if (!files.ok()) return files.status();
  namespace fs = std::filesystem;
  for (const auto& [rel, content] : *files) {
    const fs::path path = fs::path(opts.out_dir) / rel;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec)
      return Status::Error(path.parent_path().string() +
                           ": cannot create directory: " + ec.message());
    Status s = WriteFileAtomically(path.string(), content);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace orch::report
