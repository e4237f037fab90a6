#include "report/report.h"

#include <filesystem>
#include <set>
#include <system_error>

#include "base/atomic_file.h"
#include "report/debugging.h"
#include "report/facts.h"
#include "report/figures.h"
#include "report/html_writer.h"
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
  facts.intervals = opts.intervals;
  if (!(facts.intervals.confidence > 0) ||
      !(facts.intervals.confidence < 1) || !(facts.ppl_tolerance >= 0) ||
      !(facts.min_effect >= 0 && facts.min_effect < 1)) {
    return Status::Error(
        "report options: confidence in (0, 1), a non-negative PPL tolerance "
        "and a minimum effect in [0, 1) are required");
  }
  StatusOr<ReportModel> model = BuildModel(snapshot, facts);
  if (!model.ok()) return model.status().WithContext("sweep " + snapshot.sweep.name);

  for (const std::string& axis : {opts.map_axes.row, opts.map_axes.col}) {
    bool known = axis.empty();
    for (const Study& s : model->studies) {
      for (const Cell& c : s.cells) known = known || c.config.fields.count(axis) > 0;
    }
    if (!known) {
      return Status::Error("--map-axes: no cell of sweep " + snapshot.sweep.name +
                           " has the config key '" + axis + "'");
    }
  }
  if (!opts.map_axes.row.empty() &&
      (opts.map_axes.col.empty() || opts.map_axes.row == opts.map_axes.col)) {
    return Status::Error("--map-axes: two different config keys are needed (ROW,COLUMN)");
  }

  ReportFiles files;
  const std::vector<FigureNames> names = FigureNamesFor(*model);
  std::vector<std::optional<FailureMap>> maps(model->studies.size());
  for (size_t i = 0; i < model->studies.size(); ++i) {
    if (!WantsFailureMap(model->studies[i])) continue;
    maps[i] = BuildFailureMap(model->studies[i], opts.map_axes);
    files["figures/" + names[i].map + ".svg"] = RenderSvg(*maps[i]);
    files["figures/" + names[i].map + ".pdf"] = RenderPdf(*maps[i]);
  }
  const DebuggingSteps debugging = BuildDebuggingSteps(*model, snapshot);
  std::vector<Cell> unique_cells;
  {
    std::set<std::string> seen;
    for (const Study& s : model->studies) {
      for (const Cell& c : s.cells) {
        if (seen.insert(c.key).second) unique_cells.push_back(c);
      }
    }
  }
  PairingOptions pairing_opts;
  pairing_opts.key = opts.pair_key;
  pairing_opts.reference_value = opts.pair_reference;
  pairing_opts.contrast = {opts.ppl_tolerance, opts.min_effect, opts.intervals.confidence};
  const std::optional<KeyPairing> pairing =
      opts.pair_key.empty() ? std::nullopt : PairOnKey(unique_cells, pairing_opts);
  for (size_t i = 0; i < model->studies.size(); ++i) {
    const DotPlot tpot = TpotPlot(model->studies[i]);
    const DotPlot ppl = PplPlot(model->studies[i]);
    files["figures/" + names[i].tpot + ".svg"] = RenderSvg(tpot);
    files["figures/" + names[i].tpot + ".pdf"] = RenderPdf(tpot);
    files["figures/" + names[i].ppl + ".svg"] = RenderSvg(ppl);
    files["figures/" + names[i].ppl + ".pdf"] = RenderPdf(ppl);
  }
  files["figures/figures.tex"] = RenderLatexFigures(*model, names, "figures", maps);
  const std::vector<Prose> snippet = BuildSnippet(*model);
  files["snippet.md"] = RenderSnippetMarkdown(snippet);
  files["snippet.tex"] = RenderSnippetLatex(snippet);
  files["tables.tex"] = RenderLatexTables(*model, maps, pairing ? &*pairing : nullptr);
  files["provenance.json"] = RenderProvenanceJson(snapshot, *model);
  MarkdownInputs md{&*model, names, files["snippet.md"], maps, &debugging,
                    pairing ? &*pairing : nullptr};
  files["report.md"] = RenderMarkdownReport(md);
  HtmlInputs html{&*model, &snapshot, {}, {}, maps, &debugging, snippet};
  for (const FigureNames& n : names) {
    html.tpot_svg.push_back(files["figures/" + n.tpot + ".svg"]);
    html.ppl_svg.push_back(files["figures/" + n.ppl + ".svg"]);
  }
  files["report.html"] = RenderHtmlReport(html);
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
