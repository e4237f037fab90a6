#include "orchestrator/plan/config_schema.h"

#include <cerrno>
#include <cstdlib>
#include <cmath>
#include <unordered_map>

#include "orchestrator/cli/terminal_text.h"

namespace orch {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

std::optional<long long> ParseInt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

// A value quoted back in an error message: at most 40 bytes (the message names the position).
std::string Quoted(const std::string& s) { return s.size() <= 40 ? s : s.substr(0, 40) + "..."; }

}  // namespace

std::string ParseDuration(std::string_view s, double* seconds) {
  // DIGITS [. DIGITS] [spaces] [s|m|h], scanned by hand: no regex on unbounded input,
  // and a length limit before any arithmetic.
  if (s.empty()) return "empty";
  if (s.size() > 32) return "too long";
  size_t i = 0;
  auto digits = [&] {
    size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  if (s[0] == '-') return "negative";
  if (digits() == 0) return "not a number";
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return "not a number";
  }
  std::string number(s.substr(0, i));
  while (i < s.size() && s[i] == ' ') ++i;
  double scale = 1;
  if (i < s.size()) {
    if (s[i] == 's') scale = 1;
    else if (s[i] == 'm') scale = 60;
    else if (s[i] == 'h') scale = 3600;
    else return "unknown unit (use s, m or h)";
    ++i;
  }
  if (i != s.size()) return "unexpected text after the unit";
  double v = std::strtod(number.c_str(), nullptr) * scale;
  if (!std::isfinite(v) || v > kMaxDurationSeconds) return "longer than 30 days";
  if (!(v > 0)) return "zero";
  *seconds = v;
  return "";
}

const std::vector<ConfigKey>& ConfigKeys() {
  using nlohmann::json;
  static const std::vector<ConfigKey> kKeys = {
      {"quant", ValueKind::kEnum,
       {"none", "int8wo", "int8wo-dequant", "int8wo-unscaled", "int8da", "int4wo-g32",
        "int4wo-g64", "int4wo-g128", "int4wo-g256"},
       0, "none", true, "weight quantization variant of the linear layers"},
      {"scope", ValueKind::kEnum, {"all", "mlp", "attention"}, 0, "all", true,
       "which linear layers the quantization applies to"},
      {"quantize_head", ValueKind::kEnum, {"false", "true"}, 0, "false", true,
       "true: quant also applies to the output layer (embed_out, vocab x hidden); in the trial "
       "key only when true"},
      {"window", ValueKind::kWindow, {}, 1, "full", true,
       "KV-cache window (recent tokens kept) or full: the growing cache"},
      {"n_sink", ValueKind::kInt, {}, 0, 4, true, "StreamingLLM sink tokens kept forever"},
      {"dtype", ValueKind::kEnum, {"fp32", "fp16", "bf16"}, 0, "fp32", true,
       "weights and activations dtype"},
      {"compile", ValueKind::kEnum, {"eager", "cuda_graph"}, 0, "eager", true,
       "decode step execution: eager or captured as a CUDA graph"},
      {"mode", ValueKind::kEnum, {"eval", "sanity", "profile"}, 0, "eval", true,
       "eval: decode-loop PPL and TPOT; sanity: per-layer finiteness; profile: time shares"},
      {"tokens", ValueKind::kInt, {}, 1, 512, true, "tokens evaluated by the decode loop"},
      {"warmup", ValueKind::kInt, {}, 0, 8, true, "leading steps left out of latency stats"},
      // Each replicate is a worker process and an attempt row: 10,000 per cell is far
      // past any study, and keeps every count and sum over a sweep in range (F13).
      {"repeats", ValueKind::kInt, {}, 1, 1, true,
       "replicates: fresh worker processes, each running the decode loop once (at most 10000)",
       10000},
      {"seed", ValueKind::kInt, {}, 0, 0, true, "random seed"},
      {"device", ValueKind::kDevice, {}, 0, "cpu", true, "cpu, cuda or cuda:N"},
      {"timeout", ValueKind::kSeconds, {}, 0, 3600, false,
       "wall-clock limit of one attempt (seconds, or 90s / 30m / 2h)"},
      {"heartbeat_timeout", ValueKind::kSeconds, {}, 0, 300, false,
       "an attempt silent for this long is hung (seconds, or 90s / 30m / 2h)"},
      {"worker", ValueKind::kWorkerName, {}, 0, kDefaultWorker, true,
       "which worker runs the cell: orch (orch-worker), reference (transformers + TorchAO) "
       "or a name declared under `workers:`"},
      {"retries", ValueKind::kInt, {}, 0, 1, false,
       "extra attempts per replicate for transient failures (crash, hung, interrupted, cuda_error)",
       100},
  };
  return kKeys;
}

const ConfigKey* FindConfigKey(std::string_view name) {
  // Hashed: a plan looks every key of every cell up (a scan of the table per lookup was
  // ~7% of `orch plan` at 100,000 cells, issue 18). The table never changes.
  static const std::unordered_map<std::string_view, const ConfigKey*> kByName = [] {
    std::unordered_map<std::string_view, const ConfigKey*> m;
    for (const auto& k : ConfigKeys()) m.emplace(k.name, &k);  // the first of a name wins
    return m;
  }();
  auto it = kByName.find(name);
  return it == kByName.end() ? nullptr : it->second;
}

bool IsWorkerName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '-' || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsUserKey(std::string_view name) { return name.size() > 2 && name.substr(0, 2) == "x_"; }

std::vector<std::string> ConfigKeyNames() {
  std::vector<std::string> out;
  for (const auto& k : ConfigKeys()) out.push_back(k.name);
  return out;
}

nlohmann::json BuiltinDefaults() {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& k : ConfigKeys()) j[k.name] = k.default_value;
  return j;
}

std::optional<nlohmann::json> NormalizeValue(std::string_view name, const std::string& s,
                                             std::string* error) {
  // Values become JSON (trial.json, the trial key), whose writer throws on invalid
  // UTF-8; YAML escapes such as "\ud800" can produce it from a valid file.
  if (FirstInvalidUtf8(s) != std::string::npos) {
    *error = std::string(name) + " must be UTF-8 text";
    return std::nullopt;
  }
  if (IsUserKey(name)) return nlohmann::json(s);
  const ConfigKey* key = FindConfigKey(name);
  if (!key) {
    *error = "unknown key '" + std::string(name) + "' (known: " + Join(ConfigKeyNames()) +
             ", or x_<name> for a custom axis)";
    return std::nullopt;
  }
  switch (key->kind) {
    case ValueKind::kEnum:
      for (const auto& c : key->choices) {
        if (c == s) return nlohmann::json(s);
      }
      *error = "unknown " + key->name + " '" + Quoted(s) + "' (valid: " + Join(key->choices) + ")";
      return std::nullopt;
    case ValueKind::kInt: {
      auto v = ParseInt(s);
      if (!v || *v < key->min_int) {
        *error = key->name + " must be an integer >= " + std::to_string(key->min_int) +
                 ", not '" + Quoted(s) + "'";
        return std::nullopt;
      }
      if (*v > key->max_int) {
        *error = key->name + " must be at most " + std::to_string(key->max_int) + ", not '" +
                 Quoted(s) + "'";
        return std::nullopt;
      }
      return nlohmann::json(*v);
    }
    case ValueKind::kWindow: {
      if (s == "full") return nlohmann::json("full");
      auto v = ParseInt(s);
      if (!v || *v < 1 || *v > key->max_int) {
        *error = "window must be a positive integer or 'full' (at most " +
                 std::to_string(key->max_int) + "), not '" + Quoted(s) + "'";
        return std::nullopt;
      }
      return nlohmann::json(*v);
    }
    case ValueKind::kSeconds: {
      double v = 0;
      std::string why = ParseDuration(s, &v);
      if (why.empty()) {
        if (v == static_cast<double>(static_cast<long long>(v))) {
          return nlohmann::json(static_cast<long long>(v));
        }
        return nlohmann::json(v);
      }
      *error = key->name + " must be a duration of more than 0 s and at most 30 days "
               "(seconds, or 90s / 30m / 2h), not '" + Quoted(s) + "': " + why;
      return std::nullopt;
    }
    case ValueKind::kDevice: {
      if (s == "cpu" || s == "cuda") return nlohmann::json(s);
      if (s.size() > 5 && s.size() <= 8 && s.compare(0, 5, "cuda:") == 0 &&
          s.find_first_not_of("0123456789", 5) == std::string::npos) {
        return nlohmann::json(s);
      }
      *error = "device must be cpu, cuda or cuda:N, not '" + Quoted(s) + "'";
      return std::nullopt;
    }
    case ValueKind::kUserString:
      return nlohmann::json(s);
    case ValueKind::kWorkerName:
      // Whether the name is known (built in or declared) is checked with the whole spec.
      if (IsWorkerName(s)) return nlohmann::json(s);
      *error = "worker must be a worker name (letters, digits, _ - .), not '" + Quoted(s) + "'";
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace orch
