// `orch report`: writes the failure report of one sweep from the database alone —
// report.md, report.html (one self-contained page, html_writer.h), tables.tex, figures
// (SVG + PDF, figures/figures.tex), snippet.md/.tex and provenance.json under `out_dir`. The same database and options give byte-identical
// files (no random draws, no clock). Reads the store, writes files atomically;
// returns data and Status, prints nothing. One call at a time per Store (its rule).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "report/failure_map.h"
#include "report/pairing.h"
#include "report/snapshot.h"
#include "report/stats.h"

namespace orch::store {
class Store;
}

namespace orch::report {

struct ReportOptions {
  std::string sweep_name;  // empty: the only sweep (an error lists the names if several)
  std::string out_dir;
  double ppl_tolerance = 0.01;  // relative PPL change still called "stable"
  double min_effect = 0.02;     // relative TPOT change a faster/slower verdict needs
  IntervalOptions intervals;    // confidence of every interval
  MapAxes map_axes;             // failure-map axes; empty: quant x window (failure_map.h)
  // The stack comparison: cells that differ only in this key; ratios against the cell
  // with `pair_reference` (else the key's first value in spec order).
  std::string pair_key = "worker";
  std::string pair_reference = "reference";
  // false: a report that succeeds leaves its snapshot and model to the process's exit
  // instead of freeing them (`orch report` exits next). Freeing a 100,000-trial sweep's
  // millions of allocations one by one took 0.3-0.5 s of a ~7 s report (issue 18); the
  // exit returns the pages at once. As clang's -disable-free. Leave it true anywhere else.
  bool free_memory = true;
};

// Every output file: path relative to out_dir -> content. Pure: no store, no files.
using ReportFiles = std::map<std::string, std::string>;
StatusOr<ReportFiles> RenderReport(const SweepSnapshot& snapshot, const ReportOptions& opts);
// The same files handed to `sink` as each is rendered, so a caller that writes them out
// holds few at a time (with the SVGs report.html embeds). Takes the snapshot to drop its
// latencies once the statistics are made (move it in to save the copy).
// With `pieces`, the two files that grow with the sweep (provenance.json, report.html)
// go to it instead, in consecutive pieces, `last` set on the final one (possibly empty),
// so that neither is ever held whole (issue 18).
// Threads: once the model is built, the files are rendered on two threads (issue 18):
// provenance.json then figures.tex, the snippets, tables.tex and report.md on one; the
// figures then report.html on the other. `sink` and `pieces` may therefore be called
// from both at once, each call for a different file (a file's pieces all come from one
// thread, in order). A thread stops at its first error; the error returned is the first
// in that fixed order of files, whichever thread met it (the other thread's files may
// have been written). The bytes of every file do not depend on the threads. An exception
// thrown on either thread (by a sink, or bad_alloc) leaves this call on the caller's
// thread once both threads are joined, as it would with one thread.
using ReportSink = std::function<Status(const std::string& path, std::string content)>;
using ReportPieceSink =
    std::function<Status(const std::string& path, std::string_view piece, bool last)>;
Status RenderReportTo(SweepSnapshot snapshot, const ReportOptions& opts, const ReportSink& sink,
                      const ReportPieceSink& pieces = nullptr);

// LoadSnapshot + RenderReport, then writes each file atomically (creating directories).
// The loading (on the caller's thread, the Store's) and the model's steps run side by side
// (SnapshotLoad, ModelBuild): the same files as RenderReport of the loaded snapshot.
Status WriteReport(const store::Store& db, const ReportOptions& opts);

}  // namespace orch::report
