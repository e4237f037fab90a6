#include "report/report.h"

#include <exception>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "base/atomic_file.h"
#include "report/debugging.h"
#include "report/facts.h"
#include "report/figures.h"
#include "report/html_writer.h"
#include "report/latex_writer.h"
#include "report/malloc_arenas.h"
#include "report/markdown_writer.h"
#include "report/parallel_for.h"
#include "report/pdf_figures.h"
#include "report/provenance.h"
#include "report/snippet.h"
#include "report/svg_figures.h"

namespace orch::report {

namespace {

FactsOptions FactsOf(const ReportOptions& opts) {
  FactsOptions facts;
  facts.ppl_tolerance = opts.ppl_tolerance;
  facts.min_effect = opts.min_effect;
  facts.intervals = opts.intervals;
  return facts;
}

Status CheckOptions(const FactsOptions& facts) {
  if (!(facts.intervals.confidence > 0) ||
      !(facts.intervals.confidence < 1) || !(facts.ppl_tolerance >= 0) ||
      !(facts.min_effect >= 0 && facts.min_effect < 1)) {
    return Status::Error(
        "report options: confidence in (0, 1), a non-negative PPL tolerance "
        "and a minimum effect in [0, 1) are required");
  }
  return Status::Ok();
}

// The map axes, when given, are config keys of some cell.
Status CheckMapAxes(const ReportModel& model, const ReportOptions& opts,
                    const std::string& sweep_name) {
  for (const std::string& axis : {opts.map_axes.row, opts.map_axes.col}) {
    bool known = axis.empty();
    for (const Study& s : model.studies) {
      for (const Cell& c : s.cells) known = known || c.config.fields.Has(axis);
    }
    if (!known) {
      return Status::Error("--map-axes: no cell of sweep " + sweep_name +
                           " has the config key '" + axis + "'");
    }
  }
  if (!opts.map_axes.row.empty() &&
      (opts.map_axes.col.empty() || opts.map_axes.row == opts.map_axes.col)) {
    return Status::Error("--map-axes: two different config keys are needed (ROW,COLUMN)");
  }
  return Status::Ok();
}

std::optional<KeyPairing> Pairing(const ReportModel& model, const ReportOptions& opts) {
  if (opts.pair_key.empty()) return std::nullopt;
  std::vector<const Cell*> unique_cells;
  std::unordered_set<std::string_view> seen;
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

// The files of a built model (RenderReportTo's contract, report.h).
Status RenderModelTo(SweepSnapshot&& snapshot_in, ReportModel&& model_in,
                     const ReportOptions& opts, const ReportSink& sink,
                     const ReportPieceSink& pieces) {
  SweepSnapshot snapshot = std::move(snapshot_in);
  std::optional<ReportModel> model(std::move(model_in));
  if (Status s = CheckMapAxes(*model, opts, snapshot.sweep.name); !s.ok()) return s;
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

  // Two streams of files, one per core (issue 18): from here on the model and the snapshot
  // are only read. Stream B writes provenance.json (it needs nothing else), then, once
  // stream A has made the figures and the other inputs, the small files; stream A writes
  // the figures, then report.html. Each file's bytes are what one thread would write; the
  // error returned is the first in the fixed order of `Part` below, whichever stream met it.
  using Emitter = std::function<void(std::string_view)>;
  auto stream = [&](const char* path, const std::function<void(const Emitter&)>& emit_all) {
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
  };

  // What stream A prepares for both streams.
  std::vector<std::optional<FailureMap>> maps(model->studies.size());
  std::optional<DebuggingSteps> debugging;
  std::optional<KeyPairing> pairing;
  HtmlInputs html{&*model, &snapshot, {}, {}, maps, nullptr, {}};
  std::string snippet_md;

  enum Part {
    kFigures,
    kFiguresTex,
    kSnippetMd,
    kSnippetTex,
    kTables,
    kProvenance,
    kMarkdown,
    kHtml,
    kParts
  };
  std::vector<Status> done(kParts, Status::Ok());
  std::promise<bool> inputs_ready;  // false: stream A failed before the inputs were made
  std::shared_future<bool> inputs = inputs_ready.get_future().share();
  auto stream_b = [&] {
    done[kProvenance] = stream("provenance.json",
                               [&](const Emitter& e) { EmitProvenanceJson(snapshot, *model, e); });
    if (!inputs.get()) return;
    MarkdownInputs md{&*model, names, snippet_md, maps, &*debugging, pairing ? &*pairing : nullptr};
    const std::pair<Part, std::pair<const char*, std::function<std::string()>>> files[] = {
        {kFiguresTex,
         {"figures/figures.tex",
          [&] { return RenderLatexFigures(*model, names, "figures", maps); }}},
        {kSnippetMd, {"snippet.md", [&] { return snippet_md; }}},
        {kSnippetTex, {"snippet.tex", [&] { return RenderSnippetLatex(html.snippet); }}},
        {kTables,
         {"tables.tex",
          [&] { return RenderLatexTables(*model, maps, pairing ? &*pairing : nullptr); }}},
        {kMarkdown, {"report.md", [&] { return RenderMarkdownReport(md); }}}};
    for (const auto& [part, file] : files) {
      done[part] = sink(file.first, file.second());
      if (!done[part].ok()) return;
    }
  };
  auto figures = [&]() -> Status {
    for (size_t i = 0; i < model->studies.size(); ++i) {
      if (!WantsFailureMap(model->studies[i])) continue;
      maps[i] = BuildFailureMap(model->studies[i], opts.map_axes);
      if (Status s = sink("figures/" + names[i].map + ".svg", RenderSvg(*maps[i])); !s.ok())
        return s;
      if (Status s = sink("figures/" + names[i].map + ".pdf", RenderPdf(*maps[i])); !s.ok())
        return s;
    }
    html.maps = maps;
    debugging = BuildDebuggingSteps(*model, snapshot);
    html.debugging = &*debugging;
    pairing = Pairing(*model, opts);
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
    snippet_md = RenderSnippetMarkdown(html.snippet);
    return Status::Ok();
  };
  // An exception thrown on stream B (bad_alloc, a JSON error) is caught there and rethrown
  // here after the join, as if one thread had rendered everything: an exception leaving a
  // std::thread's function would std::terminate orch.
  std::exception_ptr b_threw;
  {
    std::thread b([&] {
      try {
        stream_b();
      } catch (...) {
        b_threw = std::current_exception();
      }
    });
    // Joined on every path out of this block, exceptions included.
    struct Join {
      std::thread& t;
      std::promise<bool>& ready;
      bool set = false;
      ~Join() {
        if (!set) ready.set_value(false);
        t.join();
      }
    } join{b, inputs_ready};
    done[kFigures] = figures();
    join.set = true;
    inputs_ready.set_value(done[kFigures].ok());
    if (done[kFigures].ok()) {
      done[kHtml] = stream("report.html", [&](const Emitter& e) { EmitHtmlReport(html, e); });
    }
  }
  if (b_threw) std::rethrow_exception(b_threw);
  for (const Status& s : done) {
    if (!s.ok()) return s;
  }
  if (!opts.free_memory) {
    // Left to the process's exit, which takes their pages back at once (ReportOptions).
    static_cast<void>(new SweepSnapshot(std::move(snapshot)));
    static_cast<void>(new ReportModel(std::move(*model)));
  }
  return Status::Ok();
}

}  // namespace

Status RenderReportTo(SweepSnapshot snapshot, const ReportOptions& opts, const ReportSink& sink,
                      const ReportPieceSink& pieces) {
  const FactsOptions facts = FactsOf(opts);
  if (Status s = CheckOptions(facts); !s.ok()) return s;
  StatusOr<ReportModel> model = BuildModelDroppingLatencies(snapshot, facts);
  if (!model.ok()) return model.status().WithContext("sweep " + snapshot.sweep.name);
  return RenderModelTo(std::move(snapshot), std::move(*model), opts, sink, pieces);
}

StatusOr<ReportFiles> RenderReport(const SweepSnapshot& snapshot, const ReportOptions& opts) {
  ReportFiles files;
  std::mutex files_mutex;  // the sink is called from two threads (RenderReportTo)
  Status s = RenderReportTo(snapshot, opts, [&](const std::string& path, std::string content) {
    std::lock_guard<std::mutex> lock(files_mutex);
    files[path] = std::move(content);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return files;
}

Status WriteReport(const store::Store& db, const ReportOptions& opts) {
  if (opts.out_dir.empty()) return Status::Error("report: an output directory (--out) is required");
  OneMallocArena();  // the threads below share the memory the snapshot frees
  // The Store's reads (this thread's) and the model's steps on what they have read so far,
  // side by side: loading a 100,000-trial sweep is ~2 s of one thread (issue 18).
  SnapshotLoad load(db);
  if (Status s = load.Trials(opts.sweep_name); !s.ok()) return s;
  const FactsOptions facts = FactsOf(opts);
  if (Status s = CheckOptions(facts); !s.ok()) return s;
  const std::string sweep_name = load.snapshot().sweep.name;
  ModelBuild build(load.snapshot(), facts);
  Status loaded = Status::Ok(), built = Status::Ok();
  auto start = [&] { built = build.Start(); };
  auto attempts = [&] { loaded = load.Attempts(); };
  if (!Beside(start, attempts)) {  // no second thread: one after the other
    start();
    if (built.ok()) attempts();
  }
  if (loaded.ok() && built.ok()) {
    // At most this many attempts' latencies wait to be summarised: a load faster than the
    // summaries would otherwise hold all of them (~100 MB at 100,000 trials, issue 18).
    Handoff<const AttemptData*> latencies(/*capacity=*/2048);
    const bool side_by_side = Beside(
        [&] {
          struct Abandoner {  // on every path out: the loader must not wait for this thread
            Handoff<const AttemptData*>& h;
            ~Abandoner() { h.Abandon(); }
          } abandoner{latencies};
          built = build.AddAttempts();
          build.AddReplicatesAsLoaded(latencies);
        },
        [&] {
          struct Closer {  // on every path out: the side thread waits for it
            Handoff<const AttemptData*>& h;
            ~Closer() { h.Close(); }
          } closer{latencies};
          loaded = load.Latencies([&](const AttemptData& a) { latencies.Push(&a); });
        });
    if (!side_by_side) {  // no second thread: Finish makes every cell's replicates
      built = build.AddAttempts();
      if (built.ok()) loaded = load.Latencies();
    }
  }
  if (!loaded.ok()) return loaded;
  StatusOr<ReportModel> model = built.ok() ? build.Finish() : StatusOr<ReportModel>(built);
  if (!model.ok()) return model.status().WithContext("sweep " + sweep_name);
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
  // The files whose pieces are coming, one per stream (RenderReportTo streams two at once);
  // the mutex guards the map, each writer is used by its stream's thread alone.
  std::map<std::string, std::unique_ptr<AtomicFileWriter>> open;
  std::mutex open_mutex;
  return RenderModelTo(
      std::move(load.snapshot()), std::move(*model), opts,
      [&](const std::string& rel, std::string content) {
        const fs::path path = fs::path(opts.out_dir) / rel;
        if (Status s = make_dirs(path); !s.ok()) return s;
        return WriteFileAtomically(path.string(), content);
      },
      [&](const std::string& rel, std::string_view piece, bool last) {
        AtomicFileWriter* writer = nullptr;
        {
          std::lock_guard<std::mutex> lock(open_mutex);
          if (auto it = open.find(rel); it != open.end()) writer = it->second.get();
        }
        if (writer == nullptr) {
          const fs::path path = fs::path(opts.out_dir) / rel;
          if (Status s = make_dirs(path); !s.ok()) return s;
          StatusOr<std::unique_ptr<AtomicFileWriter>> w = AtomicFileWriter::Open(path.string());
          if (!w.ok()) return w.status();
          writer = w->get();
          std::lock_guard<std::mutex> lock(open_mutex);
          open[rel] = std::move(*w);
        }
        if (Status s = writer->Append(piece); !s.ok()) return s;
        if (!last) return Status::Ok();
        Status s = writer->Commit();
        std::lock_guard<std::mutex> lock(open_mutex);
        open.erase(rel);
        return s;
      });
}

}  // namespace orch::report
