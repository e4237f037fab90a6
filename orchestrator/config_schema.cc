#include "orchestrator/config_schema.h"

#include <cerrno>
#include <cstdlib>
#include <regex>

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

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
  using nlohmann::json;
  static const std::vector<ConfigKey> kKeys = {
      {"quant", ValueKind::kEnum,
       {"none", "int8wo", "int8wo-dequant", "int8wo-unscaled", "int8da", "int4wo-g32",
        "int4wo-g64", "int4wo-g128", "int4wo-g256"},
       0, "none", true, "weight quantization variant of the linear layers"},
      {"scope", ValueKind::kEnum, {"all", "mlp", "attention"}, 0, "all", true,
       "which linear layers the quantization applies to"},
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
      {"repeats", ValueKind::kInt, {}, 1, 1, true, "times the decode loop is repeated"},
      {"seed", ValueKind::kInt, {}, 0, 0, true, "random seed"},
      {"device", ValueKind::kDevice, {}, 0, "cpu", true, "cpu, cuda or cuda:N"},
      {"timeout", ValueKind::kSeconds, {}, 0, 3600, false,
       "wall-clock limit of one attempt (seconds, or 90s / 30m / 2h)"},
      {"heartbeat_timeout", ValueKind::kSeconds, {}, 0, 300, false,
       "an attempt silent for this long is hung (seconds, or 90s / 30m / 2h)"},
      {"retries", ValueKind::kInt, {}, 0, 1, false,
       "extra attempts for transient failures (crash, hung, interrupted, cuda_error)"},
  };
  return kKeys;
}

const ConfigKey* FindConfigKey(std::string_view name) {
  for (const auto& k : ConfigKeys()) {
    if (k.name == name) return &k;
  }
  return nullptr;
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
      *error = "unknown " + key->name + " '" + s + "' (valid: " + Join(key->choices) + ")";
      return std::nullopt;
    case ValueKind::kInt: {
      auto v = ParseInt(s);
      if (!v || *v < key->min_int) {
        *error = key->name + " must be an integer >= " + std::to_string(key->min_int) +
                 ", not '" + s + "'";
        return std::nullopt;
      }
      return nlohmann::json(*v);
    }
    case ValueKind::kWindow: {
      if (s == "full") return nlohmann::json("full");
      auto v = ParseInt(s);
      if (!v || *v < 1) {
        *error = "window must be a positive integer or 'full', not '" + s + "'";
        return std::nullopt;
      }
      return nlohmann::json(*v);
    }
    case ValueKind::kSeconds: {
      static const std::regex kRe(R"(^([0-9]+(\.[0-9]+)?)\s*(s|m|h)?$)");
      std::smatch m;
      if (std::regex_match(s, m, kRe)) {
        double v = std::strtod(m[1].str().c_str(), nullptr);
        std::string unit = m[3].str();
        if (unit == "m") v *= 60;
        if (unit == "h") v *= 3600;
        if (v > 0) {
          if (v == static_cast<double>(static_cast<long long>(v))) {
            return nlohmann::json(static_cast<long long>(v));
          }
          return nlohmann::json(v);
        }
      }
      *error = key->name + " must be a positive duration (seconds, or 90s / 30m / 2h), not '" +
               s + "'";
      return std::nullopt;
    }
    case ValueKind::kDevice: {
      static const std::regex kRe(R"(^(cpu|cuda|cuda:[0-9]+)$)");
      if (std::regex_match(s, kRe)) return nlohmann::json(s);
      *error = "device must be cpu, cuda or cuda:N, not '" + s + "'";
      return std::nullopt;
    }
    case ValueKind::kUserString:
      return nlohmann::json(s);
  }
  return std::nullopt;
}

}  // namespace orch
