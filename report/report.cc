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

namespace {

// The model, once the options are checked (and the map axes known to some cell).
// Frees the snapshot's latencies as it goes (BuildModelDroppingLatencies).
StatusOr<ReportModel> CheckedModel(SweepSnapshot& snapshot, const ReportOptions& opts) {
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
  StatusOr<ReportModel> model = BuildModelDroppingLatencies(snapshot, facts);
  if (!model.ok()) return model.status().WithContext("sweep " + snapshot.sweep.name);

  for (const std::string& axis : {opts.map_axes.row, opts.map_axes.col}) {
    bool known = axis.empty();
    for (const Study& s : model->studies) {
      for (const Cell& c : s.cells) known = known || c.config.fields.Has(axis);
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
  return model;
}

std::optional<KeyPairing> Pairing(const ReportModel& model, const ReportOptions& opts) {
  if (opts.pair_key.empty()) return std::nullopt;
  std::vector<const Cell*> unique_cells;
  std::set<std::string> seen;
  for (const Study& s : model.studies) {
    for (const Cell& c : s.cells) {
      if (seen.insert(c.key).second) unique_cells.push_back(&c);
    }
  }
  PairingOptions pairing_opts;
  pairing_opts.key = opts.pair_key;
  pairing_opts.reference_value = opts.pair_reference;
  pairing_opts.contrast = {opts.ppl_tolerance, opts.min_effect, opts.intervals.confidence};
  return PairOnKey(unique_cells, pairing_opts);
}

}  // namespace

Status RenderReportTo(SweepSnapshot snapshot, const ReportOptions& opts, const ReportSink& sink,
                      const ReportPieceSink& pieces) {
  StatusOr<ReportModel> model = CheckedModel(snapshot, opts);
  if (!model.ok()) return model.status();
  // The latencies are in the model's statistics now, the configs in its cells (parsed):
  // nothing after reads them.
  for (auto& [key, attempts] : snapshot.attempts) {
    for (AttemptData& a : attempts) {
      std::vector<std::vector<double>>().swap(a.latencies);
      std::map<std::string, double>().swap(a.metrics);  // the cells hold the final ones
    }
  }
  for (store::TrialRecord& t : snapshot.trials) std::string().swap(t.config_json);
  const std::vector<FigureNames> names = FigureNamesFor(*model);
  std::vector<std::optional<FailureMap>> maps(model->studies.size());
  for (size_t i = 0; i < model->studies.size(); ++i) {
    if (!WantsFailureMap(model->studies[i])) continue;
    maps[i] = BuildFailureMap(model->studies[i], opts.map_axes);
    if (Status s = sink("figures/" + names[i].map + ".svg", RenderSvg(*maps[i])); !s.ok()) return s;
    if (Status s = sink("figures/" + names[i].map + ".pdf", RenderPdf(*maps[i])); !s.ok()) return s;
  }
  const DebuggingSteps debugging = BuildDebuggingSteps(*model, snapshot);
  const std::optional<KeyPairing> pairing = Pairing(*model, opts);
  HtmlInputs html{&*model, &snapshot, {}, {}, maps, &debugging, {}};
  for (size_t i = 0; i < model->studies.size(); ++i) {
    const DotPlot tpot = TpotPlot(model->studies[i]);
    const DotPlot ppl = PplPlot(model->studies[i]);
    html.tpot_svg.push_back(RenderSvg(tpot));
    html.ppl_svg.push_back(RenderSvg(ppl));
    for (auto [path, text] : {std::pair{names[i].tpot + ".svg", html.tpot_svg.back()},
                              std::pair{names[i].tpot + ".pdf", RenderPdf(tpot)},
                              std::pair{names[i].ppl + ".svg", html.ppl_svg.back()},
                              std::pair{names[i].ppl + ".pdf", RenderPdf(ppl)}}) {
      if (Status s = sink("figures/" + path, std::move(text)); !s.ok()) return s;
    }
  }
  html.snippet = BuildSnippet(*model);
  const std::string snippet_md = RenderSnippetMarkdown(html.snippet);
  MarkdownInputs md{&*model, names, snippet_md, maps, &debugging,
                    pairing ? &*pairing : nullptr};
  using Emitter = std::function<void(std::string_view)>;
  const std::pair<const char*, std::function<void(const Emitter&)>> streamed[] = {
      {"provenance.json", [&](const Emitter& e) { EmitProvenanceJson(snapshot, *model, e); }},
      {"report.html", [&](const Emitter& e) { EmitHtmlReport(html, e); }}};
  auto stream = [&](const char* path) {
    for (const auto& [name, emit_all] : streamed) {
      if (std::string_view(name) != path) continue;
      if (!pieces) {
        std::string text;
        emit_all([&](std::string_view piece) { text.append(piece); });
        return sink(path, std::move(text));
      }
      Status failed = Status::Ok();
      emit_all([&](std::string_view piece) {
        if (failed.ok()) failed = pieces(path, piece, false);
      });
      return failed.ok() ? pieces(path, {}, true) : failed;
    }
    return Status::Error(std::string("report: no renderer for ") + path);
  };
  const std::pair<const char*, std::function<std::string()>> files[] = {
      {"figures/figures.tex", [&] { return RenderLatexFigures(*model, names, "figures", maps); }},
      {"snippet.md", [&] { return snippet_md; }},
      {"snippet.tex", [&] { return RenderSnippetLatex(html.snippet); }},
      {"tables.tex", [&] { return RenderLatexTables(*model, maps, pairing ? &*pairing : nullptr); }},
      {"provenance.json", nullptr},
      {"report.md", [&] { return RenderMarkdownReport(md); }},
      {"report.html", nullptr}};
  for (const auto& [path, render] : files) {
    if (Status s = render ? sink(path, render()) : stream(path); !s.ok()) return s;
  }
  return Status::Ok();
}

StatusOr<ReportFiles> RenderReport(const SweepSnapshot& snapshot, const ReportOptions& opts) {
  ReportFiles files;
  Status s = RenderReportTo(snapshot, opts, [&](const std::string& path, std::string content) {
    files[path] = std::move(content);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return files;
}

Status WriteReport(const store::Store& db, const ReportOptions& opts) {
  if (opts.out_dir.empty()) return Status::Error("report: an output directory (--out) is required");
  StatusOr<SweepSnapshot> snapshot = LoadSnapshot(db, opts.sweep_name);
  if (!snapshot.ok()) return snapshot.status();
  namespace fs = std::filesystem;
  auto make_dirs = [&](const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::Error(path.parent_path().string() +
                           ": cannot create directory: " + ec.message());
    }
    return Status::Ok();
  };
  // Each file is written as soon as it is rendered: the report never holds them all, and
  // the two that grow with the sweep are written piece by piece, never held whole.
  std::unique_ptr<AtomicFileWriter> open;  // the file whose pieces are coming
  return RenderReportTo(
      std::move(*snapshot), opts,
      [&](const std::string& rel, std::string content) {
        const fs::path path = fs::path(opts.out_dir) / rel;
        if (Status s = make_dirs(path); !s.ok()) return s;
        return WriteFileAtomically(path.string(), content);
      },
      [&](const std::string& rel, std::string_view piece, bool last) {
        if (!open) {
          const fs::path path = fs::path(opts.out_dir) / rel;
          if (Status s = make_dirs(path); !s.ok()) return s;
          StatusOr<std::unique_ptr<AtomicFileWriter>> w = AtomicFileWriter::Open(path.string());
          if (!w.ok()) return w.status();
          open = std::move(*w);
        }
        if (Status s = open->Append(piece); !s.ok()) return s;
        if (!last) return Status::Ok();
        Status s = open->Commit();
        open.reset();
        return s;
      });
}

}  // namespace orch::report
