// Trial input (trial.json) and output (result.json) of docs/protocol.md, version 1.
// ParseTrial validates everything the worker relies on and names the offending key;
// WriteResultAtomically guarantees result.json is either complete or absent. Outcome
// names, the atomic write and the token-id file are orch's own (base/): one definition
// for the orchestrator and the worker.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/outcome.h"

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

struct RepeatSamples {
  int64_t repeat = 0;
  int64_t warmup = 0;
  std::vector<double> latency_ms;
  std::vector<double> nll;
};

struct TrialResult {
  // What a worker may report itself: ok, nan, oom, cuda_error, blocked or error (the
  // other classes are the orchestrator's judgement, docs/protocol.md).
  OutcomeClass outcome = OutcomeClass::kOk;
  std::string reason;
  std::map<std::string, double> metrics;
  std::vector<RepeatSamples> samples;
  nlohmann::json details = nlohmann::json::object();  // flat: name -> string or number
  std::vector<std::string> warnings;
  nlohmann::json environment = nlohmann::json::object();

  static TrialResult Blocked(std::string reason) {
    TrialResult r;
    r.outcome = OutcomeClass::kBlocked;
    r.reason = std::move(reason);
    return r;
  }
};

nlohmann::json ResultToJson(const TrialResult& result);

// Writes result.json with WriteFileAtomically (base/atomic_file.h: a temporary name,
// fsync, rename, fsync of the directory). Returns false with *error set on any failure
// (the temporary file is removed).
bool WriteResultAtomically(const std::string& path, const TrialResult& result, std::string* error);

}  // namespace orch::worker
