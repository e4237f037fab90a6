// ConfigSchema: the one list of trial configuration keys orch knows, with their types,
// valid values and defaults. Spec validation, canonicalization and the docs all read it,
// so a new quant variant is added in exactly one place. Immutable; any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

enum class ValueKind {
  kEnum,        // one of `choices`
  kInt,         // integer >= min_int
  kWindow,      // integer >= 1 or the word "full"
  kSeconds,     // positive number of seconds, or "90s" / "30m" / "2h"
  kDevice,      // cpu, cuda or cuda:N
  kUserString,  // free-form scalar (user-defined x_ axes)
  kWorkerName,  // a worker's name: built in (orch, reference) or declared under `workers:`
};

struct ConfigKey {
  std::string name;
  ValueKind kind;
  std::vector<std::string> choices;  // kEnum
  long long min_int = 0;             // kInt
  nlohmann::json default_value;
  bool identity = true;  // part of the trial key; false for execution policy (timeouts)
  std::string help;
  // kInt and kWindow: the largest value (workers may hold it in a 32-bit int; a retry
  // count of 2^31 is never meant).
  long long max_int = 2147483647;
};

const std::vector<ConfigKey>& ConfigKeys();
const ConfigKey* FindConfigKey(std::string_view name);
// User-defined axes: any key starting with "x_" is passed to the worker as a string and
// is part of the trial identity (custom knobs of custom workers).
bool IsUserKey(std::string_view name);
std::vector<std::string> ConfigKeyNames();

// Converts a scalar written in a spec to the canonical JSON value of key `name`
// ("256" -> 256, "full" -> "full", "30m" -> 1800). On failure returns nullopt and sets
// `error` to a message listing what is valid.
std::optional<nlohmann::json> NormalizeValue(std::string_view name, const std::string& scalar,
                                             std::string* error);

// The longest `timeout` / `heartbeat_timeout` accepted: 30 days.
inline constexpr double kMaxDurationSeconds = 30.0 * 24 * 3600;

// Parses a duration ("90", "1.5", "90s", "30m", "2h"; 0 < value <= kMaxDurationSeconds)
// into *seconds; returns "" on success, else why it is not one ("zero", "too long", ...).
std::string ParseDuration(std::string_view text, double* seconds);

// Workers every spec knows without declaring them: `orch` (orch-worker, or the spec's
// top-level `worker:` executable) and `reference` (worker/reference: transformers + TorchAO).
inline constexpr const char* kDefaultWorker = "orch";
inline constexpr const char* kReferenceWorker = "reference";
// True for a well-formed worker name: 1-64 of [A-Za-z0-9_.-], not starting with '-' or '.'.
bool IsWorkerName(std::string_view name);

// The built-in defaults for every known key (policy keys included).
nlohmann::json BuiltinDefaults();

}  // namespace orch
