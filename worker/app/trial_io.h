// Trial input (trial.json) and output (result.json) of docs/protocol.md, version 1.
// ParseTrial validates everything the worker relies on and names the offending key;
// WriteResultAtomically guarantees result.json is either complete or absent.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace orch::worker {

inline constexpr int kProtocolVersion = 1;

struct TrialConfig {
  std::string quant = "none";
  std::string scope = "all";
  bool quantize_head = false;  // config.quantize_head: "true"/"false" or a JSON bool; absent = false
  std::optional<int64_t> window;  // nullopt: "full" (ordinary growing cache)
  int64_t n_sink = 0;
  std::string dtype = "fp32";
  std::string compile = "eager";
  std::string mode = "eval";
  int64_t tokens = 0;
  int64_t warmup = 0;
  int64_t repeats = 1;
  int64_t seed = 0;
  std::string device = "cpu";
};

struct Trial {
  int protocol = kProtocolVersion;
  std::string trial_key;
  int64_t attempt = 1;
  std::string attempt_dir;
  std::string events_path;
  std::string result_path;
  TrialConfig config;
  std::string model;      // inputs.model: directory or hub id; may be empty
  std::string token_ids;  // inputs.token_ids: little-endian int32 file
};

// Parses trial.json text. On failure returns nullopt and sets *error (names the key).
std::optional<Trial> ParseTrial(const std::string& json_text, std::string* error);
std::optional<Trial> ReadTrialFile(const std::string& path, std::string* error);

enum class Outcome { kOk, kNan, kOom, kCudaError, kBlocked, kError };
const char* OutcomeName(Outcome outcome);

struct RepeatSamples {
  int64_t repeat = 0;
  int64_t warmup = 0;
  std::vector<double> latency_ms;
  std::vector<double> nll;
};

struct TrialResult {
  Outcome outcome = Outcome::kOk;
  std::string reason;
  std::map<std::string, double> metrics;
  std::vector<RepeatSamples> samples;
  nlohmann::json details = nlohmann::json::object();  // flat: name -> string or number
  std::vector<std::string> warnings;
  nlohmann::json environment = nlohmann::json::object();

  static TrialResult Blocked(std::string reason) {
    TrialResult r;
    r.outcome = Outcome::kBlocked;
    r.reason = std::move(reason);
    return r;
  }
};

nlohmann::json ResultToJson(const TrialResult& result);

// Writes `path`.tmp.<pid>, fsyncs it, renames it over `path` and fsyncs the directory.
// Returns false with *error set on any failure (the temporary file is removed).
bool WriteResultAtomically(const std::string& path, const TrialResult& result, std::string* error);

// Reads a token-id file (little-endian int32, no header). Returns false with *error set
// when the file is unreadable or its size is not a multiple of 4.
bool ReadTokenIds(const std::string& path, std::vector<int32_t>* ids, std::string* error);

}  // namespace orch::worker
