#include "report/html_data.h"

#include <cmath>
#include <string>
#include <unordered_set>
#include <vector>

#include "report/json_text.h"
#include "report/number_format.h"
#include "report/ordered_pieces.h"
#include "report/trial_index.h"

namespace orch::report {
namespace {

void Tail(JsonText& w, const std::string& s) {
  if (s.size() <= kHtmlLogTailBytes) {
    w.String(s);
    return;
  }
  size_t from = s.size() - kHtmlLogTailBytes;
  while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) ++from;
  w.String("..." + s.substr(from));
}

// Each attempt as an array: number, replicate, outcome, reason, exit code, signal, slot,
// duration, start, log tail, job id.
void Attempts(JsonText& w, const std::vector<AttemptData>& attempts) {
  w.BeginArray();
  for (const AttemptData& d : attempts) {
    const store::AttemptRecord& a = d.record;
    w.BeginArray().Int(a.number).Int(a.replicate);
    w.String(a.finished ? std::string_view(a.outcome) : std::string_view("running"));
    w.String(a.reason);
    a.exit_code ? w.Int(*a.exit_code) : w.Null();
    a.signal ? w.Int(*a.signal) : w.Null();
    w.String(a.slot);
    if (a.finished) {
      w.Rounded(a.duration_s, 2);
    } else {
      w.Null();
    }
    w.String(a.started_utc);
    Tail(w, a.stderr_tail);
    w.String(a.job_id).EndArray();
  }
  w.EndArray();
}

int VerdictCode(const Study& s, size_t i) {
  if (s.baseline && *s.baseline == i) return 0;  // the baseline
  switch (s.comparisons[i].speed) {
    case SpeedVerdict::kSlower:
      return 1;
    case SpeedVerdict::kFaster:
      return 2;
    case SpeedVerdict::kNoDifference:
      return 3;
    case SpeedVerdict::kWithinRunOnly:
      return 4;
    case SpeedVerdict::kUnavailable:
      return 5;
  }
  return 5;
}

}  // namespace

SnapshotState SnapshotStateOf(const SweepSnapshot& snap) {
  SnapshotState st;
  std::string newest = snap.sweep.updated_utc;
  auto see = [&](const std::string& t) {
    if (t > newest) newest = t;
  };
  see(snap.sweep.created_utc);
  for (const auto& [id, run] : snap.runs) {
    see(run.started_utc);
    see(run.finished_utc);
  }
  for (const auto& [key, list] : snap.attempts) {
    for (const AttemptData& a : list) {
      see(a.record.started_utc);
      see(a.record.finished_utc);
    }
  }
  st.time_utc = newest;
  std::unordered_set<std::string_view> seen, stale;
  seen.reserve(snap.trials.size());  // no rehash of 100,000 keys on the way
  for (const store::TrialRecord& t : snap.trials) {
    if (!t.in_spec) {
      stale.insert(t.key);
      continue;
    }
    if (!seen.insert(t.key).second) continue;
    ++st.total;
    switch (t.state) {
      case store::TrialState::kPending:
        ++st.pending;
        break;
      case store::TrialState::kRunning:
        ++st.running;
        break;
      case store::TrialState::kDone:
        ++st.done;
        st.failed += t.outcome != "ok";
        break;
    }
  }
  for (std::string_view k : stale) st.stale += seen.count(k) == 0;
  return st;
}

namespace {

// A study's table: per cell its index in the page's cells, its verdict code and, when
// compared, the ratio with its interval. Keys in a dump's order.
void StudyRows(JsonText& w, const Study& s, size_t study, const TrialIndex& index) {
  w.BeginObject().Key("axes").BeginArray();
  for (const std::string& axis : s.varying) w.String(axis);
  w.EndArray().Key("id").String(s.id).Key("rows").BeginArray();
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const Comparison& cmp = s.comparisons[i];
    w.BeginArray().Int(static_cast<int64_t>(index.TrialOf(study, i))).Int(VerdictCode(s, i));
    if (s.cells[i].ok() && cmp.ratio) {
      w.Rounded(*cmp.ratio, 3);
      w.Rounded(cmp.ratio_ci.lo, 3);
      w.Rounded(cmp.ratio_ci.hi, 3);
    }
    w.EndArray();
  }
  w.EndArray().EndObject();
}

using Field = ConfigFields::Field;

// The fields every trial has with the same value, in key order (views into the first
// trial's config). Both lists are in key order: one merge per trial, no lookups.
std::vector<Field> FixedFields(const std::vector<const Cell*>& cells) {
  std::vector<Field> fixed;
  if (cells.empty()) return fixed;
  for (const Field& f : cells.front()->config.fields) fixed.push_back(f);
  for (const Cell* c : cells) {
    const ConfigFields& fields = c->config.fields;
    size_t kept = 0, j = 0;
    for (const Field& f : fixed) {
      while (j < fields.size() && fields.at(j).first < f.first) ++j;
      if (j < fields.size() && fields.at(j) == f) fixed[kept++] = f;
    }
    fixed.resize(kept);
    if (fixed.empty()) break;
  }
  return fixed;
}

// One trial as the page's script reads it: attempts (a), the config fields that are not
// fixed (c), key (k), peak memory (m), outcome (o), PPL (p), reason (r), TPOT with its
// interval (t), warnings (w), final metrics (x). The keys in a dump's (sorted) order;
// numbers at the precision the report prints them with (FormatMs, FormatRatio, ...): the
// page shows the same digits as report.md, and the JSON stays short.
void CellJson(JsonText& w, const Cell& c, const std::vector<Field>& fixed,
              const SweepSnapshot& snap) {
  w.BeginObject().Key("a");
  if (auto a = snap.attempts.find(c.key); a != snap.attempts.end()) {
    Attempts(w, a->second);
  } else {
    w.BeginArray().EndArray();
  }
  w.Key("c").BeginObject();
  size_t f = 0;
  for (const Field& field : c.config.fields) {
    while (f < fixed.size() && fixed[f].first < field.first) ++f;
    if (f < fixed.size() && fixed[f].first == field.first) continue;
    w.Key(field.first).String(field.second);
  }
  w.EndObject().Key("k").String(c.key);
  if (c.ok() && c.peak_memory_bytes) {
    w.Key("m");
    w.Rounded(*c.peak_memory_bytes, 0);
  }
  w.Key("o").String(c.outcome);
  if (c.ok() && c.ppl) {
    w.Key("p");
    w.Rounded(*c.ppl, 2);
  }
  const std::string& why = c.error_line.empty() ? c.reason : c.error_line;
  if (!why.empty()) w.Key("r").String(why);
  if (c.ok() && c.tpot) {
    w.Key("t").BeginArray();
    w.Rounded(c.tpot->median, 2);
    w.Rounded(c.tpot->median_ci.lo, 2);
    w.Rounded(c.tpot->median_ci.hi, 2);
    w.EndArray();
  }
  if (!c.warnings.empty()) {
    w.Key("w").BeginArray();
    for (const std::string& warning : c.warnings) w.String(warning);
    w.EndArray();
  }
  if (!c.metrics.empty()) {
    w.Key("x").BeginObject();
    for (const auto& [k, v] : c.metrics) w.Key(k).String(FormatMetric(v));
    w.EndObject();
  }
  w.EndObject();
}

// The pieces handed on hold this many whole trials (~230 KB at 100,000 trials): a call
// per trial (escaping, the file's lock and buffer) cost more than the trial's text.
constexpr size_t kPieceTrials = 512;

}  // namespace

std::string BuildHtmlData(const ReportModel& model, const SweepSnapshot& snap) {
  std::string text;
  EmitHtmlData(model, snap, [&](std::string_view piece) { text.append(piece); });
  return text;
}

void EmitHtmlData(const ReportModel& model, const SweepSnapshot& snap,
                  const std::function<void(std::string_view)>& emit) {
  EmitHtmlData(model, snap, TrialIndex(model), SnapshotStateOf(snap), emit);
}

void EmitHtmlData(const ReportModel& model, const SweepSnapshot& snap, const TrialIndex& index,
                  const SnapshotState& st, const std::function<void(std::string_view)>& emit) {
  // Unique trials in first-seen order; the config fields shared by all of them go once.
  const std::vector<const Cell*>& cells = index.trials();
  const std::vector<Field> fixed = FixedFields(cells);
  // "cells" is the first key in sorted order: the cells, written as the dump of one
  // document holding them would write them, go in front of the rest, in pieces of whole
  // trials rendered on two threads (without that document or a second copy of the text).
  emit("{\"cells\":[");
  RenderPiecesInOrder((cells.size() + kPieceTrials - 1) / kPieceTrials,
                      [&](size_t piece, std::string& text) {
                        JsonText w(text);
                        const size_t from = piece * kPieceTrials;
                        for (size_t i = from; i < cells.size() && i < from + kPieceTrials; ++i) {
                          if (i > 0) text += ',';
                          CellJson(w, *cells[i], fixed, snap);
                        }
                      },
                      emit);
  emit("],");
  std::string rest;
  JsonText r(rest);
  r.BeginObject().Key("fixed").BeginObject();
  for (const auto& [k, v] : fixed) r.Key(k).String(v);
  r.EndObject().Key("snapshot").BeginObject();
  r.Key("done").Int(st.done).Key("pending").Int(st.pending).Key("running").Int(st.running);
  r.Key("time").String(st.time_utc).Key("total").Int(st.total).EndObject();
  r.Key("studies").BeginArray();
  for (size_t i = 0; i < model.studies.size(); ++i) StudyRows(r, model.studies[i], i, index);
  r.EndArray().Key("sweep").String(model.sweep.name).EndObject();
  emit(std::string_view(rest).substr(1));
}

}  // namespace orch::report
