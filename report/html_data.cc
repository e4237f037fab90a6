#include "report/html_data.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "report/number_format.h"
#include "report/trial_index.h"

namespace orch::report {
namespace {

using nlohmann::json;

// A number at the precision the report prints it with (FormatMs, FormatRatio, ...):
// the page shows the same digits as report.md, and the JSON stays short.
json Rounded(double x, int decimals) {
  if (!std::isfinite(x)) return nullptr;
  return std::stod(FormatFixed(x, decimals));
}

std::string Tail(const std::string& s) {
  if (s.size() <= kHtmlLogTailBytes) return s;
  size_t from = s.size() - kHtmlLogTailBytes;
  while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) ++from;
  return "..." + s.substr(from);
}

json Attempts(const std::vector<AttemptData>& attempts) {
  json out = json::array();
  for (const AttemptData& d : attempts) {
    const store::AttemptRecord& a = d.record;
    json row = json::array();
    row.push_back(a.number);
    row.push_back(a.replicate);
    row.push_back(a.finished ? a.outcome : std::string("running"));
    row.push_back(a.reason);
    row.push_back(a.exit_code ? json(*a.exit_code) : json(nullptr));
    row.push_back(a.signal ? json(*a.signal) : json(nullptr));
    row.push_back(a.slot);
    row.push_back(a.finished ? Rounded(a.duration_s, 2) : json(nullptr));
    row.push_back(a.started_utc);
    row.push_back(Tail(a.stderr_tail));
    row.push_back(a.job_id);
    out.push_back(std::move(row));
  }
  return out;
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
// compared, the ratio with its interval.
json StudyRows(const Study& s, size_t study, const TrialIndex& index) {
  json js;
  js["id"] = s.id;
  js["axes"] = s.varying;
  json rows = json::array();
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const Comparison& cmp = s.comparisons[i];
    json row = {index.TrialOf(study, i), VerdictCode(s, i)};
    if (s.cells[i].ok() && cmp.ratio) {
      row.push_back(Rounded(*cmp.ratio, 3));
      row.push_back(Rounded(cmp.ratio_ci.lo, 3));
      row.push_back(Rounded(cmp.ratio_ci.hi, 3));
    }
    rows.push_back(std::move(row));
  }
  js["rows"] = std::move(rows);
  return js;
}

}  // namespace

std::string BuildHtmlData(const ReportModel& model, const SweepSnapshot& snap) {
  std::string text;
  EmitHtmlData(model, snap, [&](std::string_view piece) { text.append(piece); });
  return text;
}

void EmitHtmlData(const ReportModel& model, const SweepSnapshot& snap,
                  const std::function<void(std::string_view)>& emit) {
  // Unique trials in first-seen order; the config fields shared by all of them go once.
  const TrialIndex index(model);
  const std::vector<const Cell*>& cells = index.trials();
  std::map<std::string, std::string> fixed;
  if (!cells.empty()) {
    for (const auto& [k, v] : cells.front()->config.fields) fixed.emplace(k, v);
    for (const Cell* c : cells) {
      for (auto it = fixed.begin(); it != fixed.end();) {
        const std::optional<std::string_view> f = c->config.fields.Find(it->first);
        it = (!f || *f != it->second) ? fixed.erase(it) : std::next(it);
      }
    }
  }
  // "cells" is the first key in sorted order: the cells, each dumped as soon as it is
  // made, go in front of the rest (the same bytes as dumping one document holding them,
  // without that document or a second copy of the text).
  emit("{\"cells\":[");
  bool first = true;
  for (const Cell* c : cells) {
    json j;
    j["k"] = c->key;
    j["o"] = c->outcome;
    const std::string why = c->error_line.empty() ? c->reason : c->error_line;
    if (!why.empty()) j["r"] = why;
    json cfg = json::object();
    for (const auto& [k, v] : c->config.fields) {
      if (!fixed.count(std::string(k))) cfg[std::string(k)] = std::string(v);
    }
    j["c"] = std::move(cfg);
    if (c->ok() && c->ppl) j["p"] = Rounded(*c->ppl, 2);
    if (c->ok() && c->tpot) {
      j["t"] = {Rounded(c->tpot->median, 2), Rounded(c->tpot->median_ci.lo, 2),
                Rounded(c->tpot->median_ci.hi, 2)};
    }
    if (c->ok() && c->peak_memory_bytes) j["m"] = Rounded(*c->peak_memory_bytes, 0);
    if (!c->metrics.empty()) {
      json m = json::object();
      for (const auto& [k, v] : c->metrics) m[k] = FormatMetric(v);
      j["x"] = std::move(m);
    }
    if (!c->warnings.empty()) j["w"] = c->warnings;
    auto a = snap.attempts.find(c->key);
    j["a"] = a == snap.attempts.end() ? json::array() : Attempts(a->second);
    emit((first ? "" : ",") + j.dump(-1, ' ', false, json::error_handler_t::replace));
    first = false;
  }
  json studies = json::array();
  for (size_t i = 0; i < model.studies.size(); ++i) {
    studies.push_back(StudyRows(model.studies[i], i, index));
  }
  const SnapshotState st = SnapshotStateOf(snap);
  json out;
  out["sweep"] = model.sweep.name;
  out["snapshot"] = {{"time", st.time_utc},
                     {"total", st.total},
                     {"done", st.done},
                     {"running", st.running},
                     {"pending", st.pending}};
  out["fixed"] = fixed;
  out["studies"] = std::move(studies);
  const std::string rest = out.dump(-1, ' ', false, json::error_handler_t::replace);
  emit("],");
  emit(std::string_view(rest).substr(1));
}

}  // namespace orch::report
