// The data report.html renders: one compact JSON document with every unique trial of the
// sweep (outcome, the config fields that are not the same for all trials, PPL, TPOT
// median and CI, peak memory, final metrics, warnings and every attempt with its log
// tail), each study's rows (trial index, ratio to the baseline with CI and verdict) and
// the snapshot: its time (the newest time recorded in the database, not the clock, so
// the same database gives the same bytes) and done / running / pending counts.
// Numbers are rounded to the report's precision (number_format.h). Pure; any thread (it
// renders the trials on the calling thread and one it starts, ordered_pieces.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "report/model.h"
#include "report/snapshot.h"
#include "report/trial_index.h"

namespace orch::report {

struct SnapshotState {
  std::string time_utc;  // newest started/finished/updated time recorded; "" if none
  int total = 0, done = 0, running = 0, pending = 0, stale = 0;  // unique trials
  int failed = 0;                                                // done, not ok
};
SnapshotState SnapshotStateOf(const SweepSnapshot& snapshot);

// A log tail in the page keeps at most this many bytes (the end); `orch show` has all.
inline constexpr size_t kHtmlLogTailBytes = 2000;

// The JSON text (not yet escaped for a <script> element: see JsonForScript).
std::string BuildHtmlData(const ReportModel& model, const SweepSnapshot& snapshot);

// The same text, handed to `emit` in pieces (whole trials, ~230 KB at a time, then the
// rest) whose concatenation is BuildHtmlData's: each piece is complete JSON tokens, so a
// piece never splits a UTF-8 sequence and can be escaped on its own. report.html escapes
// them into the page as they come, without the ~45 MB document of a 100,000-trial sweep
// held twice. Written with JsonText (json_text.h): the bytes of a dump of the document.
void EmitHtmlData(const ReportModel& model, const SweepSnapshot& snapshot,
                  const std::function<void(std::string_view)>& emit);
// The same, given the model's TrialIndex and SnapshotStateOf(snapshot), which
// report.html uses above the data too: each made once (100,000 keys sorted or hashed).
void EmitHtmlData(const ReportModel& model, const SweepSnapshot& snapshot, const TrialIndex& index,
                  const SnapshotState& state, const std::function<void(std::string_view)>& emit);

}  // namespace orch::report
