#include <cmath>
#include <cstdio>
#include <set>
#include <string_view>

#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/sweep_select.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch::cli {
namespace {

struct ExportOptions {
  std::string db, sweep, format = "csv";
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

int RunExport(const ExportOptions& o) {
  auto db = OpenForReading(o.db);
  if (!db) return kExitUsage;
  auto sweep = SelectSweep(*db, o.sweep);
  if (!sweep) return kExitUsage;
  struct Row {
    store::TrialRecord trial;
    nlohmann::json config;
    std::map<std::string, double> metrics;
  };
  std::vector<Row> rows;
  std::set<std::string> config_keys, metric_keys;
  auto trials = db->Trials(sweep->id);
  if (!trials.ok()) {
    std::fprintf(stderr, "orch: %s\n", trials.status().message().c_str());
    return kExitInternal;
  }
  for (auto& t : *trials) {
    Row r{t, nlohmann::json::parse(t.config_json, nullptr, false), {}};
    if (!r.config.is_object()) r.config = nlohmann::json::object();  // damaged: no config
    if (t.final_attempt_id) {
      auto metrics = db->Metrics(*t.final_attempt_id);
      if (!metrics.ok()) {
        std::fprintf(stderr, "orch: %s\n", metrics.status().message().c_str());
        return kExitInternal;
      }
      r.metrics = std::move(*metrics);
    }
    for (const auto& [k, v] : r.config.items()) config_keys.insert(k);
    for (const auto& [k, v] : r.metrics) metric_keys.insert(k);
    rows.push_back(std::move(r));
  }
  if (o.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json m = nlohmann::json::object();
      for (const auto& [k, v] : r.metrics) {
        m[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
      }
      // Texts stored from workers and specs are written as valid UTF-8 (invalid bytes
      // become U+FFFD): dump() would throw on them otherwise.
      out.push_back({{"key", r.trial.key}, {"study", r.trial.study_id},
                     {"stale", !r.trial.in_spec}, {"state", store::TrialStateName(r.trial.state)},
                     {"outcome", r.trial.outcome}, {"reason", r.trial.reason},
                     {"attempts", r.trial.attempts}, {"replicates", r.trial.replicates},
                     {"ok_replicates", r.trial.ok_replicates}, {"config", r.config},
                     {"metrics", m}});
    }
    auto text = out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    std::printf("%s\n", text.c_str());
    return kExitOk;
  }
  std::string header = "key,study,stale,state,outcome,reason,attempts,replicates,ok_replicates";
  for (const auto& k : config_keys) header += "," + CsvField(k);
  for (const auto& k : metric_keys) header += "," + CsvField(k);
  std::printf("%s\n", header.c_str());
  for (const auto& r : rows) {
    std::string line = CsvField(r.trial.key) + "," + CsvField(r.trial.study_id) + "," +
                       (r.trial.in_spec ? "0" : "1") + "," + store::TrialStateName(r.trial.state) +
                       "," + CsvField(r.trial.outcome) + "," + CsvField(r.trial.reason) + "," +
                       std::to_string(r.trial.attempts) + "," + std::to_string(r.trial.replicates) +
                       "," + std::to_string(r.trial.ok_replicates);
    for (const auto& k : config_keys) {
      if (!r.config.contains(k)) {
        line += ",";
      } else {
        const auto& v = r.config[k];
        // A number is written as a number (a negative one keeps its sign).
        line += "," + (v.is_number() ? v.dump() : CsvField(Scalar(v)));
      }
    }
    for (const auto& k : metric_keys) {
      auto it = r.metrics.find(k);
      char buf[64] = "";
      if (it != r.metrics.end() && std::isfinite(it->second)) {
        std::snprintf(buf, sizeof(buf), "%.17g", it->second);
      }
      line += std::string(",") + buf;
    }
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

}  // namespace

void SetupExport(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Every trial of a sweep with config, outcome and metrics");
  AddDbOption(cmd, &o->db);
  cmd->add_option("--sweep", o->sweep, "sweep name (needed when the database holds several)");
  cmd->add_option("--format", o->format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  cmd->callback([o, exit_code] { *exit_code = RunExport(*o); });
}

}  // namespace orch::cli
