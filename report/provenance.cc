#include "report/provenance.h"

#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/flat_config.h"
#include "report/json_text.h"
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

// Each distinct environment text of the attempts, dumped once: a sweep's attempts share
// a few. The last one is checked first (attempts of one run come in runs), then a hash:
// a std::map compared whole environment texts ~17 times per attempt (issue 18).
class EnvironmentDumps {
 public:
  const std::string& Of(const std::string& text) {
    if (last_ != nullptr && last_->first == text) return last_->second;
    auto it = dumps_.find(text);
    if (it == dumps_.end()) it = dumps_.emplace(text, Dump(ParseOr(text, json::object()))).first;
    last_ = &*it;
    return it->second;
  }

 private:
  std::unordered_map<std::string, std::string> dumps_;
  const std::pair<const std::string, std::string>* last_ = nullptr;  // stable in a node
};

// TrialJson(c, studies, snap).dump(-1, ...) byte for byte, appended to `out`, without
// that document: the config is the model's canonical dump (CellConfig::json is the dump
// of a parse, so dumping its parse gives the same bytes), each environment is dumped
// once (EnvironmentDumps), the rest is written by JsonText with its keys in the sorted
// order a dump uses.
void TrialLine(const Cell& c, const std::vector<std::string>& studies, const SweepSnapshot& snap,
               EnvironmentDumps& envs, std::string& out) {
  JsonText w(out);
  w.BeginObject().Key("attempts").BeginArray();
  if (auto it = snap.attempts.find(c.key); it != snap.attempts.end()) {
    for (const AttemptData& a : it->second) {
      const store::AttemptRecord& r = a.record;
      w.BeginObject().Key("duration_s").Double(r.duration_s);
      w.Key("environment").Raw(envs.Of(r.environment_json));
      w.Key("finished_utc").String(r.finished_utc).Key("id").Int(r.id);
      w.Key("number").Int(r.number).Key("outcome").String(r.outcome);
      w.Key("run_id").Int(r.run_id).Key("slot").String(r.slot);
      w.Key("started_utc").String(r.started_utc).EndObject();
    }
  }
  w.EndArray();
  // The store's configs pass the scan, which costs far less than a validating parse of
  // 100,000 of them (issue 18); any other text is checked in full.
  const bool canonical = !c.config.json.empty() &&
                         (IsCanonicalFlatConfig(c.config.json) || json::accept(c.config.json));
  w.Key("config").Raw(canonical ? std::string_view(c.config.json) : std::string_view("{}"));
  w.Key("key").String(c.key).Key("outcome").String(c.outcome);
  if (c.platform) {
    w.Key("platform").BeginObject().Key("build").String(c.platform->build);
    w.Key("hardware").String(c.platform->hardware).EndObject();
  }
  w.Key("studies").BeginArray();
  for (const std::string& s : studies) w.String(s);
  w.EndArray().EndObject();
}

// The pieces handed on hold whole trials, about this many bytes: a call per trial (the
// file's lock and buffer) cost more than writing the trial.
constexpr size_t kPieceBytes = 64 * 1024;

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
  EnvironmentDumps envs;
  std::string piece;  // whole trials, never all of them (76 MB for 100,000 trials)
  piece.reserve(kPieceBytes + 4096);
  for (size_t i = 0; i < cells.size(); ++i) {
    piece += i == 0 ? "\n    " : ",\n    ";
    if (one_line) {
      TrialLine(*cells[i], index.StudiesOf(i), snap, envs, piece);
    } else {
      const std::string one = TrialJson(*cells[i], index.StudiesOf(i), snap)
                                  .dump(2, ' ', false, json::error_handler_t::replace);
      for (char ch : one) {
        piece += ch;
        if (ch == '\n') piece += "    ";
      }
    }
    if (piece.size() >= kPieceBytes) {
      emit(piece);
      piece.clear();
    }
  }
  emit(piece);
  emit(cells.empty() ? "],\n" : "\n  ],\n");
  emit(std::string_view(rest).substr(version));
}

}  // namespace orch::report
