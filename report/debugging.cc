#include "report/debugging.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "report/cell_label.h"
#include "report/error_line.h"
#include "report/number_format.h"

namespace orch::report {
namespace {

using nlohmann::json;

// A trial with the study whose labels name it; the label is made only for the few cells
// a finding names (a Prose per cell of a 100,000-trial sweep was ~60 MB, issue 18).
struct LabeledCell {
  const Cell* cell;
  const Study* study;
  Prose label() const { return CellLabelProse(*cell, study->varying); }
};

// Each trial once, labeled as in the first study that holds it.
std::vector<LabeledCell> UniqueCells(const ReportModel& m) {
  std::vector<LabeledCell> out;
  std::unordered_set<std::string_view> seen;
  for (const Study& s : m.studies) {
    for (const Cell& c : s.cells) {
      if (seen.insert(c.key).second) out.push_back({&c, &s});
    }
  }
  return out;
}

const std::vector<AttemptData>& AttemptsOf(const SweepSnapshot& snap, const std::string& key) {
  static const std::vector<AttemptData> kNone;
  auto it = snap.attempts.find(key);
  return it == snap.attempts.end() ? kNone : it->second;
}

json Details(const store::AttemptRecord& a) {
  json j = json::parse(a.details_json, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::string DetailText(const json& details, const char* name) {
  auto it = details.find(name);
  if (it == details.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string AttemptError(const store::AttemptRecord& a) {
  std::string e = FirstErrorLine(a.stderr_tail);
  return e.empty() ? a.reason : e;
}

// Where a non-finite value was first seen in one attempt: layer, token, repeat.
Prose NonFiniteWhere(const json& details) {
  Prose p;
  const std::string layer = DetailText(details, "nan_layer");
  const std::string token = DetailText(details, "nan_token");
  const std::string repeat = DetailText(details, "nan_repeat");
  if (!layer.empty()) p.Text("first non-finite output in layer ").Code(layer);
  if (!token.empty())
    p.Text(std::string(layer.empty() ? "first non-finite" : ",") + " at token " + token);
  if (!repeat.empty()) p.Text(" (repeat " + repeat + ")");
  return p;
}

Prose AttemptLine(const store::AttemptRecord& a) {
  Prose p;
  p.Text("attempt #" + std::to_string(a.number) + ": ");
  if (!a.finished) return p.Text("not finished");
  p.Code(a.outcome.empty() ? "?" : a.outcome);
  p.Text(", exit code " + (a.exit_code ? std::to_string(*a.exit_code) : std::string("none")));
  if (a.signal) p.Text(", signal " + SignalText(*a.signal));
  p.Text(", slot ").Code(a.slot.empty() ? "?" : a.slot);
  p.Text(", run " + std::to_string(a.run_id) + ", " + FormatFixed(a.duration_s, 2) + " s");
  const std::string err = a.outcome == "ok" ? "" : AttemptError(a);
  if (!err.empty()) p.Text(": ").Code(err);
  return p;
}

// Which recorded properties differ between the finished attempts of one trial.
Prose WhatDiffered(const std::vector<AttemptData>& attempts) {
  struct Field {
    const char* name;
    std::string (*get)(const store::AttemptRecord&);
  };
  static const Field kFields[] = {
      {"outcome", [](const store::AttemptRecord& a) { return a.outcome; }},
      {"exit code",
       [](const store::AttemptRecord& a) {
         return a.exit_code ? std::to_string(*a.exit_code) : std::string("none");
       }},
      {"signal",
       [](const store::AttemptRecord& a) {
         return a.signal ? std::to_string(*a.signal) : std::string("none");
       }},
      {"slot", [](const store::AttemptRecord& a) { return a.slot; }},
      {"run", [](const store::AttemptRecord& a) { return std::to_string(a.run_id); }},
      {"first error line",
       [](const store::AttemptRecord& a) { return a.outcome == "ok" ? "" : AttemptError(a); }},
  };
  std::vector<std::string> differed, same;
  for (const Field& f : kFields) {
    std::set<std::string> values;
    for (const AttemptData& a : attempts) {
      if (a.record.finished) values.insert(f.get(a.record));
    }
    (values.size() > 1 ? differed : same).push_back(f.name);
  }
  Prose p;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  p.Text("differed: " + (differed.empty() ? std::string("nothing recorded") : join(differed)));
  if (!same.empty()) p.Text("; the same: " + join(same));
  return p;
}

}  // namespace

std::string SignalText(int signal) {
  static const std::map<int, const char*> kNames = {
      {1, "SIGHUP"},   {2, "SIGINT"},   {3, "SIGQUIT"}, {4, "SIGILL"},
      {6, "SIGABRT"},  {7, "SIGBUS"},   {8, "SIGFPE"},  {9, "SIGKILL"},
      {11, "SIGSEGV"}, {13, "SIGPIPE"}, {15, "SIGTERM"}};
  auto it = kNames.find(signal);
  return std::to_string(signal) + (it == kNames.end() ? "" : std::string(" (") + it->second + ")");
}

DebuggingSteps BuildDebuggingSteps(const ReportModel& model, const SweepSnapshot& snap) {
  DebuggingSteps out;
  std::vector<std::string> reason_order;
  std::map<std::string, std::vector<const LabeledCell*>> blocked;
  const std::vector<LabeledCell> cells = UniqueCells(model);
  for (const LabeledCell& lc : cells) {
    const Cell& c = *lc.cell;
    const std::vector<AttemptData>& attempts = AttemptsOf(snap, c.key);

    if (c.config.mode == "sanity") {
      ++out.sanity_cells;
      Finding f;
      f.line.Append(lc.label()).Text(" ").Key(c.short_key).Text(": ");
      // The last attempt that said where a value went non-finite, else the final state.
      const AttemptData* where = nullptr;
      for (const AttemptData& a : attempts) {
        if (!NonFiniteWhere(Details(a.record)).empty()) where = &a;
      }
      if (where != nullptr) {
        f.line.Append(NonFiniteWhere(Details(where->record)))
            .Text(" (attempt #" + std::to_string(where->record.number) + ", outcome ")
            .Code(where->record.outcome)
            .Text(")");
      } else if (c.ok()) {
        f.line.Text("every layer's output finite (attempt #" +
                    std::to_string(attempts.empty() ? c.attempts : attempts.back().record.number) +
                    ")");
      } else {
        f.line.Text("ended ").Code(c.outcome);
        if (!c.error_line.empty())
          f.line.Text(": ").Code(c.error_line);
        else if (!c.reason.empty())
          f.line.Text(": ").User(c.reason);
        f.line.Text(", no layer checked");
      }
      out.sanity.push_back(std::move(f));
    } else {
      for (const AttemptData& a : attempts) {
        const Prose where = NonFiniteWhere(Details(a.record));
        if (a.record.outcome != "nan" && where.empty()) continue;
        Finding f;
        f.line.Append(lc.label())
            .Text(" ")
            .Key(c.short_key)
            .Text(", attempt #" + std::to_string(a.record.number) + " (mode ");
        f.line.Code(c.config.mode.empty() ? "?" : c.config.mode).Text("): ");
        if (where.empty()) {
          f.line.Text("non-finite values, position not recorded");
        } else {
          f.line.Append(where);
        }
        if (DetailText(Details(a.record), "nan_layer").empty())
          f.line.Text("; no layer named (a ").Code("mode: sanity").Text(" trial names it)");
        out.non_finite.push_back(std::move(f));
      }
    }

    if (c.outcome == "blocked") {
      const std::string reason = c.reason.empty() ? "(no reason recorded)" : c.reason;
      if (!blocked.count(reason)) reason_order.push_back(reason);
      blocked[reason].push_back(&lc);
    }

    // More than one attempt with a failure among them: a retry. Attempts that all ended
    // ok are replicates (issue 13's fresh-process repeats), not a debugging step.
    const bool failed_once = std::any_of(
        attempts.begin(), attempts.end(),
        [](const AttemptData& a) { return a.record.finished && a.record.outcome != "ok"; });
    if (attempts.size() > 1 && failed_once) {
      Finding f;
      f.line.Append(lc.label())
          .Text(" ")
          .Key(c.short_key)
          .Text(": " + std::to_string(attempts.size()) + " attempts, final outcome ");
      f.line.Code(c.outcome).Text("; ").Append(WhatDiffered(attempts));
      for (const AttemptData& a : attempts) f.details.push_back(AttemptLine(a.record));
      out.retries.push_back(std::move(f));
    }
  }
  std::stable_sort(reason_order.begin(), reason_order.end(),
                   [&](const std::string& a, const std::string& b) {
                     return blocked[a].size() > blocked[b].size();
                   });
  for (const std::string& reason : reason_order) {
    Finding f;
    const size_t n = blocked[reason].size();
    f.line.User(reason).Text(": " + std::to_string(n) + (n == 1 ? " cell" : " cells"));
    for (const LabeledCell* lc : blocked[reason]) {
      f.details.push_back(Prose().Append(lc->label()).Text(" ").Key(lc->cell->short_key));
    }
    out.blocked.push_back(std::move(f));
  }
  return out;
}

}  // namespace orch::report
