#include "worker/app/trial_io.h"

#include <cmath>

#include "base/atomic_file.h"

namespace orch::worker {
namespace {

using nlohmann::json;

bool GetString(const json& obj, const char* key, std::string* out, std::string* error,
               const std::string& where, bool required = true) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) *error = where + key + ": missing";
    return !required;
  }
  if (!it->is_string()) {
    *error = where + key + ": expected a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool GetInt(const json& obj, const char* key, int64_t* out, std::string* error,
            const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    *error = where + key + ": missing";
    return false;
  }
  if (!it->is_number_integer()) {
    *error = where + key + ": expected an integer";
    return false;
  }
  *out = it->get<int64_t>();
  return true;
}

// JSON has no NaN/inf: non-finite numbers are written as null, the reader's cue.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// trial.json's `config` object: every key the worker relies on, type- and range-checked;
// false with *error naming the key.
bool ParseConfig(const json& c, TrialConfig* out, std::string* error) {
  const std::string w = "trial.json: config.";
  TrialConfig& cfg = *out;
  if (!GetString(c, "quant", &cfg.quant, error, w)) return false;
  if (!GetString(c, "scope", &cfg.scope, error, w)) return false;
  if (auto hit = c.find("quantize_head"); hit != c.end()) {
    if (hit->is_boolean()) {
      cfg.quantize_head = hit->get<bool>();
    } else if (hit->is_string() && (*hit == "true" || *hit == "false")) {
      cfg.quantize_head = *hit == "true";
    } else {
      *error = w + "quantize_head: expected true or false";
      return false;
    }
  }
  if (!GetString(c, "dtype", &cfg.dtype, error, w)) return false;
  if (!GetString(c, "compile", &cfg.compile, error, w)) return false;
  if (!GetString(c, "mode", &cfg.mode, error, w)) return false;
  if (!GetString(c, "device", &cfg.device, error, w)) return false;
  if (!GetInt(c, "n_sink", &cfg.n_sink, error, w)) return false;
  if (!GetInt(c, "tokens", &cfg.tokens, error, w)) return false;
  if (!GetInt(c, "warmup", &cfg.warmup, error, w)) return false;
  if (!GetInt(c, "repeats", &cfg.repeats, error, w)) return false;
  if (!GetInt(c, "seed", &cfg.seed, error, w)) return false;
  auto wit = c.find("window");
  if (wit == c.end()) {
    *error = w + "window: missing";
    return false;
  }
  if (wit->is_string() && wit->get<std::string>() == "full") {
    cfg.window.reset();
  } else if (wit->is_number_integer() && wit->get<int64_t>() >= 0) {
    cfg.window = wit->get<int64_t>();
  } else {
    *error = w + "window: expected a non-negative integer or \"full\"";
    return false;
  }
  if (cfg.n_sink < 0 || cfg.tokens < 0 || cfg.warmup < 0 || cfg.repeats < 1) {
    *error = w + "n_sink, tokens, warmup must be >= 0 and repeats >= 1";
    return false;
  }
  return true;
}

}  // namespace

std::optional<Trial> ParseTrial(const std::string& text, std::string* error) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "trial.json: not a JSON object";
    return std::nullopt;
  }
  Trial t;
  int64_t protocol = 0;
  if (!GetInt(j, "protocol", &protocol, error, "trial.json: ")) return std::nullopt;
  if (protocol != kProtocolVersion) {
    *error = "trial.json: protocol " + std::to_string(protocol) +
             " unsupported (this worker speaks " + std::to_string(kProtocolVersion) + ")";
    return std::nullopt;
  }
  t.protocol = static_cast<int>(protocol);
  if (!GetString(j, "trial_key", &t.trial_key, error, "trial.json: ", false)) return std::nullopt;
  if (j.contains("attempt") && !GetInt(j, "attempt", &t.attempt, error, "trial.json: "))
    return std::nullopt;
  if (!GetString(j, "attempt_dir", &t.attempt_dir, error, "trial.json: ", false))
    return std::nullopt;
  if (!GetString(j, "events_path", &t.events_path, error, "trial.json: ", false))
    return std::nullopt;
  if (!GetString(j, "result_path", &t.result_path, error, "trial.json: ")) return std::nullopt;

  auto cit = j.find("config");
  if (cit == j.end() || !cit->is_object()) {
    *error = "trial.json: config: missing or not an object";
    return std::nullopt;
  }
  if (!ParseConfig(*cit, &t.config, error)) return std::nullopt;
  if (auto iit = j.find("inputs"); iit != j.end() && iit->is_object()) {
    if (!GetString(*iit, "model", &t.model, error, "trial.json: inputs.", false))
      return std::nullopt;
    if (!GetString(*iit, "token_ids", &t.token_ids, error, "trial.json: inputs.", false))
      return std::nullopt;
  }
  return t;
}

std::optional<Trial> ReadTrialFile(const std::string& path, std::string* error) {
  StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    *error = text.status().message();
    return std::nullopt;
  }
  return ParseTrial(*text, error);
}

nlohmann::json ResultToJson(const TrialResult& r) {
  json metrics = json::object();
  for (const auto& [name, value] : r.metrics) metrics[name] = Number(value);
  json samples = json::array();
  for (const RepeatSamples& s : r.samples) {
    json lat = json::array(), nll = json::array();
    for (double v : s.latency_ms) lat.push_back(Number(v));
    for (double v : s.nll) nll.push_back(Number(v));
    samples.push_back(
        {{"repeat", s.repeat}, {"warmup", s.warmup}, {"latency_ms", lat}, {"nll", nll}});
  }
  return {{"protocol", kProtocolVersion}, {"outcome", OutcomeName(r.outcome)},
          {"reason", r.reason},           {"metrics", metrics},
          {"samples", samples},           {"details", r.details},
          {"warnings", r.warnings},       {"environment", r.environment}};
}

bool WriteResultAtomically(const std::string& path, const TrialResult& result, std::string* error) {
  Status s = WriteFileAtomically(path, ResultToJson(result).dump(1) + "\n");
  if (!s.ok()) *error = s.message();
  return s.ok();
}

}  // namespace orch::worker
