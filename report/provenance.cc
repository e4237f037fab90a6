#include "report/provenance.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "report/flat_config.h"
#include "report/study_summary.h"
#include "report/trial_index.h"

namespace orch::report {
namespace {

using nlohmann::json;

json ParseOr(const std::string& text, json fallback) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

json TrialJson(const Cell& c, const std::vector<std::string>& studies, const SweepSnapshot& snap) {
  json t = {{"key", c.key},
            {"studies", studies},
            {"outcome", c.outcome},
            {"config", ParseOr(c.config.json, json::object())}};
  json attempts = json::array();
  if (auto it = snap.attempts.find(c.key); it != snap.attempts.end()) {
    for (const AttemptData& a : it->second) {
      const store::AttemptRecord& r = a.record;
      attempts.push_back({{"id", r.id},
                          {"number", r.number},
                          {"run_id", r.run_id},
                          {"slot", r.slot},
                          {"outcome", r.outcome},
                          {"started_utc", r.started_utc},
                          {"finished_utc", r.finished_utc},
                          {"duration_s", r.duration_s},
                          {"environment", ParseOr(r.environment_json, json::object())}});
    }
  }
  t["attempts"] = std::move(attempts);
  if (c.platform) t["platform"] = {{"hardware", c.platform->hardware}, {"build", c.platform->build}};
  return t;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// TrialJson(c, studies, snap).dump(-1, ...) byte for byte, without parsing the config
// again or each attempt's environment: the config is the model's canonical dump
// (CellConfig::json is the dump of a parse, so dumping its parse gives the same bytes),
// and a sweep's attempts share a few environments, each parsed and dumped once (`envs`).
// Keys are spliced in the sorted order a dump uses.
std::string TrialLine(const Cell& c, const std::vector<std::string>& studies,
                      const SweepSnapshot& snap, std::map<std::string, std::string>& envs) {
  std::string out = "{\"attempts\":[";
  if (auto it = snap.attempts.find(c.key); it != snap.attempts.end()) {
    bool first = true;
    for (const AttemptData& a : it->second) {
      const store::AttemptRecord& r = a.record;
      auto env = envs.find(r.environment_json);
      if (env == envs.end()) {
        env = envs.emplace(r.environment_json, Dump(ParseOr(r.environment_json, json::object())))
                  .first;
      }
      const json rest = {
          {"finished_utc", r.finished_utc}, {"id", r.id},         {"number", r.number},
          {"outcome", r.outcome},           {"run_id", r.run_id}, {"slot", r.slot},
          {"started_utc", r.started_utc}};
      out += first ? "" : ",";
      first = false;
      out += "{\"duration_s\":" + Dump(json(r.duration_s)) + ",\"environment\":" + env->second +
             "," + Dump(rest).substr(1);
    }
  }
  // The store's configs pass the scan, which costs far less than a validating parse of
  // 100,000 of them (issue 18); any other text is checked in full.
  const bool canonical = !c.config.json.empty() &&
                         (IsCanonicalFlatConfig(c.config.json) || json::accept(c.config.json));
  out += "],\"config\":" + (canonical ? c.config.json : std::string("{}")) + ",";
  json rest = {{"key", c.key}, {"studies", studies}, {"outcome", c.outcome}};
  if (c.platform) {
    rest["platform"] = {{"hardware", c.platform->hardware}, {"build", c.platform->build}};
  }
  out.append(Dump(rest), 1, std::string::npos);
  return out;
}

}  // namespace

std::string RenderProvenanceJson(const SweepSnapshot& snap, const ReportModel& model) {
  std::string text;
  EmitProvenanceJson(snap, model, [&](std::string_view piece) { text.append(piece); });
  return text;
}

void EmitProvenanceJson(const SweepSnapshot& snap, const ReportModel& model,
                        const std::function<void(std::string_view)>& emit) {
  json out = json::object();
  out["format"] = "orch-report-provenance";
  out["version"] = 1;
  out["sweep"] = {{"name", snap.sweep.name},
                  {"spec_path", snap.sweep.spec_path},
                  {"spec_sha256", snap.sweep.spec_hash},
                  {"created_utc", snap.sweep.created_utc},
                  {"updated_utc", snap.sweep.updated_utc}};
  json runs = json::array();
  for (const auto& [id, run] : snap.runs) {
    json r = {{"id", id},
              {"started_utc", run.started_utc},
              {"finished_utc", run.finished_utc},
              {"provenance", ParseOr(run.provenance_json, json::object())}};
    r["exit_code"] = run.exit_code ? json(*run.exit_code) : json(nullptr);
    runs.push_back(std::move(r));
  }
  out["runs"] = std::move(runs);

  // Trials in report order (studies, then cells), each once with all its studies.
  const TrialIndex index(model);
  const std::vector<const Cell*>& cells = index.trials();
  // Names and texts from the database may hold invalid UTF-8: replaced, never thrown on.
  // The trials are dumped one at a time into the place `"trials"` takes among the sorted
  // keys (before "version"), indented as a dump of the whole document would indent
  // them: the same bytes, without the document of every trial in memory.
  // A sweep with a big study (study_summary.h) writes each trial on one line, without
  // indentation: half the bytes, and still one trial per line to grep.
  const bool one_line = HasBigStudy(model);
  const std::string rest = out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  const size_t version = rest.rfind("  \"version\": ");  // the last key: found last
  emit(std::string_view(rest).substr(0, version));
  emit("  \"trials\": [");
  std::map<std::string, std::string> envs;
  std::string piece;  // one trial at a time (76 MB for 100,000 trials: never held whole)
  for (size_t i = 0; i < cells.size(); ++i) {
    piece = i == 0 ? "\n    " : ",\n    ";
    if (one_line) {
      piece += TrialLine(*cells[i], index.StudiesOf(i), snap, envs);
    } else {
      const std::string one = TrialJson(*cells[i], index.StudiesOf(i), snap)
                                  .dump(2, ' ', false, json::error_handler_t::replace);
      for (char ch : one) {
        piece += ch;
        if (ch == '\n') piece += "    ";
      }
    }
    emit(piece);
  }
  emit(cells.empty() ? "],\n" : "\n  ],\n");
  emit(std::string_view(rest).substr(version));
}

}  // namespace orch::report
