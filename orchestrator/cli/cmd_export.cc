#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/cli/terminal_text.h"
#include "report/flat_config.h"
#include "report/json_text.h"

namespace orch::cli {
namespace {

struct ExportOptions {
  std::string db, sweep, format = "csv";
  bool samples = false;
};

// A text cell: valid UTF-8, quoted when needed (RFC 4180), and neutralized against
// formula injection the OWASP way: a cell starting with = + - @ tab or CR gets a leading
// single quote, so that a spreadsheet shows it as text instead of evaluating it. Numbers
// orch formats itself (metrics) are not text cells and keep their sign.
std::string CsvField(const std::string& raw) {
  std::string s = ValidUtf8(raw);
  if (!s.empty() && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos) {
    s.insert(0, "'");
  }
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Scalar(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "orch: %s\n", s.message().c_str());
  return kExitInternal;
}

// A number as `%.17g` (it reads back to the same double); "" when not finite.
std::string Exact(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// `--samples`: every per-token sample of every attempt of the sweep, one row each, in
// attempt order then (repeat, index), values exact (`%.17g`; empty/null when the
// worker's value was not finite). Streamed: one attempt's samples in memory at a time.
int ExportSamples(const store::Store& db, const store::SweepRecord& sweep, bool json) {
  struct Who {
    std::string key, outcome;
    int number = 0, replicate = 0;
  };
  std::unordered_map<int64_t, Who> attempts;
  Status s = db.ForEachAttempt(sweep.id, [&](store::AttemptRecord&& a) {
    attempts[a.id] = {std::move(a.trial_key), std::move(a.outcome), a.number, a.replicate};
  });
  if (!s.ok()) return Fail(s);
  bool first = true;
  std::printf(json ? "[" : "key,attempt,replicate,outcome,repeat,index,latency_ms,nll,warmup\n");
  s = db.ForEachSamples(sweep.id, /*ok_only=*/false,
                        [&](int64_t id, std::vector<store::Sample>&& samples) {
    const Who& who = attempts[id];
    const std::string head = json ? "\n  {\"key\": " + nlohmann::json(who.key).dump() +
                                        ", \"attempt\": " + std::to_string(who.number) +
                                        ", \"replicate\": " + std::to_string(who.replicate) +
                                        ", \"outcome\": " +
                                        nlohmann::json(ValidUtf8(who.outcome)).dump()
                                  : CsvField(who.key) + "," + std::to_string(who.number) + "," +
                                        std::to_string(who.replicate) + "," +
                                        CsvField(who.outcome);
    for (const store::Sample& x : samples) {
      if (json) {
        const std::string lat = Exact(x.latency_ms), nll = Exact(x.nll);
        std::printf("%s%s, \"repeat\": %d, \"index\": %d, \"latency_ms\": %s, \"nll\": %s, "
                    "\"warmup\": %s}",
                    first ? "" : ",", head.c_str(), x.repeat, x.index,
                    lat.empty() ? "null" : lat.c_str(), nll.empty() ? "null" : nll.c_str(),
                    x.warmup ? "true" : "false");
      } else {
        std::printf("%s,%d,%d,%s,%s,%d\n", head.c_str(), x.repeat, x.index,
                    Exact(x.latency_ms).c_str(), Exact(x.nll).c_str(), x.warmup ? 1 : 0);
      }
      first = false;
    }
  });
  if (!s.ok()) return Fail(s);
  if (json) std::printf(first ? "]\n" : "\n]\n");
  return kExitOk;
}

// A trial's config document; a damaged one (not a JSON object) exports as {}.
nlohmann::json ConfigOf(const store::TrialRecord& t) {
  nlohmann::json config = nlohmann::json::parse(t.config_json, nullptr, false);
  return config.is_object() ? config : nlohmann::json::object();
}

// One trial as the JSON export's array element: the bytes of dumping the whole array
// with indent 2 (each line of the element's own dump indented by two more spaces).
std::string JsonElement(const store::TrialRecord& t, const std::map<std::string, double>& metrics) {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : metrics) m[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
  // Texts stored from workers and specs are written as valid UTF-8 (invalid bytes
  // become U+FFFD): dump() would throw on them otherwise.
  nlohmann::json j = {{"key", t.key}, {"study", t.study_id},
                      {"stale", !t.in_spec}, {"state", store::TrialStateName(t.state)},
                      {"outcome", t.outcome}, {"reason", t.reason},
                      {"attempts", t.attempts}, {"replicates", t.replicates},
                      {"ok_replicates", t.ok_replicates}, {"config", ConfigOf(t)},
                      {"metrics", m}};
  const std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out = "  ";
  out.reserve(text.size() + text.size() / 8);
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) {
      out.append(text, at, std::string::npos);
      break;
    }
    out.append(text, at, nl + 1 - at).append("  ");
    at = nl + 1;
  }
  return out;
}

// JsonElement's bytes, written directly when the trial's config is the store's canonical
// flat dump (report/flat_config.h), else nullopt: the document per trial, built only to be
// dumped and re-indented, was ~60% of `orch export` at 100,000 trials (issue 18). Keys in
// a dump's (sorted) order; values as nlohmann writes them (report/json_text.h).
std::optional<std::string> DirectJsonElement(const store::TrialRecord& t,
                                             const std::map<std::string, double>& metrics) {
  const std::optional<std::vector<report::FlatScalar>> config =
      report::ScanCanonicalFlatConfig(t.config_json);
  if (!config) return std::nullopt;
  std::string out = "  {\n    \"attempts\": ";
  report::AppendJsonInt(t.attempts, out);
  out += ",\n    \"config\": ";
  if (config->empty()) out += "{}";
  for (size_t i = 0; i < config->size(); ++i) {
    const report::FlatScalar& f = (*config)[i];
    out.append(i == 0 ? "{\n      \"" : ",\n      \"").append(f.key).append("\": ").append(f.token);
  }
  if (!config->empty()) out += "\n    }";
  out += ",\n    \"key\": ";
  report::AppendJsonString(t.key, out);
  out += ",\n    \"metrics\": ";
  if (metrics.empty()) out += "{}";
  for (auto it = metrics.begin(); it != metrics.end(); ++it) {
    out += it == metrics.begin() ? "{\n      " : ",\n      ";
    report::AppendJsonString(it->first, out);
    out += ": ";
    report::AppendJsonDouble(it->second, out);  // null when not finite, as JsonElement
  }
  if (!metrics.empty()) out += "\n    }";
  out += ",\n    \"ok_replicates\": ";
  report::AppendJsonInt(t.ok_replicates, out);
  out += ",\n    \"outcome\": ";
  report::AppendJsonString(t.outcome, out);
  out += ",\n    \"reason\": ";
  report::AppendJsonString(t.reason, out);
  out += ",\n    \"replicates\": ";
  report::AppendJsonInt(t.replicates, out);
  out += t.in_spec ? ",\n    \"stale\": false" : ",\n    \"stale\": true";
  out += ",\n    \"state\": ";
  report::AppendJsonString(store::TrialStateName(t.state), out);
  out += ",\n    \"study\": ";
  report::AppendJsonString(t.study_id, out);
  out += "\n  }";
  return out;
}

// The JSON export: an array of one object per trial, streamed one trial at a time.
Status PrintJson(const store::Store& db, int64_t sweep_id) {
  bool first = true;
  Status s = db.ForEachTrial(
      sweep_id, [&](store::TrialRecord&& t, const std::map<std::string, double>& metrics) {
        std::fputs(first ? "[\n" : ",\n", stdout);
        const std::optional<std::string> direct = DirectJsonElement(t, metrics);
        std::fputs(direct ? direct->c_str() : JsonElement(t, metrics).c_str(), stdout);
        first = false;
      });
  if (s.ok()) std::fputs(first ? "[]\n" : "\n]\n", stdout);
  return s;
}

// The CSV export: the header names every config key and metric of the sweep (two
// small queries), then one line per trial, streamed.
Status PrintCsv(const store::Store& db, int64_t sweep_id) {
  auto config_keys = db.ConfigKeys(sweep_id);
  if (!config_keys.ok()) return config_keys.status();
  auto metric_keys = db.FinalMetricNames(sweep_id);
  if (!metric_keys.ok()) return metric_keys.status();
  std::string header = "key,study,stale,state,outcome,reason,attempts,replicates,ok_replicates";
  for (const auto& k : *config_keys) header += "," + CsvField(k);
  for (const auto& k : *metric_keys) header += "," + CsvField(k);
  std::printf("%s\n", header.c_str());
  return db.ForEachTrial(
      sweep_id, [&](store::TrialRecord&& t, const std::map<std::string, double>& metrics) {
        const nlohmann::json config = ConfigOf(t);
        std::string line = CsvField(t.key) + "," + CsvField(t.study_id) + "," +
                           (t.in_spec ? "0" : "1") + "," + store::TrialStateName(t.state) + "," +
                           CsvField(t.outcome) + "," + CsvField(t.reason) + "," +
                           std::to_string(t.attempts) + "," + std::to_string(t.replicates) + "," +
                           std::to_string(t.ok_replicates);
        for (const auto& k : *config_keys) {
          auto v = config.find(k);
          // A number is written as a number (a negative one keeps its sign).
          if (v == config.end()) line += ",";
          else line += "," + (v->is_number() ? v->dump() : CsvField(Scalar(*v)));
        }
        for (const auto& k : *metric_keys) {
          auto it = metrics.find(k);
          line += "," + (it == metrics.end() ? std::string() : Exact(it->second));
        }
        line += '\n';
        std::fputs(line.c_str(), stdout);
      });
}

int RunExport(const ExportOptions& o) {
  auto db = OpenForReading(o.db);
  if (!db) return kExitUsage;
  auto sweep = SelectSweep(*db, o.sweep);
  if (!sweep) return kExitUsage;
  auto read = db->BeginRead();  // one state of the database, even while a run writes
  if (!read.ok()) return Fail(read.status());
  if (o.samples) return ExportSamples(*db, *sweep, o.format == "json");
  Status s = o.format == "json" ? PrintJson(*db, sweep->id) : PrintCsv(*db, sweep->id);
  return s.ok() ? kExitOk : Fail(s);
}

}  // namespace

void SetupExport(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Every trial of a sweep with config, outcome and metrics");
  AddDbOption(cmd, &o->db);
  cmd->add_option("--sweep", o->sweep, "sweep name (needed when the database holds several)");
  cmd->add_option("--format", o->format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  cmd->add_flag("--samples", o->samples,
                "every per-token sample of every attempt instead (exact values)");
  cmd->callback([o, exit_code] { *exit_code = RunExport(*o); });
}

}  // namespace orch::cli
