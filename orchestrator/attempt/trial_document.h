// Trial document: trial.json, the one file a worker reads (docs/protocol.md, "trial.json").
// Both executors write it through this function, so a worker sees the same document
// whether orch spawned it (events on the pipe, /dev/fd/3) or SLURM did (events appended
// to a file in the attempt directory). Any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "base/status.h"
#include "store/records.h"

namespace orch {

// trial.json's content for the claimed attempt.
nlohmann::json TrialDocument(const store::Claim& claim, const nlohmann::json& inputs,
                             const std::string& events_path);

// Writes <attempt_dir>/trial.json atomically and removes a stale result.json an earlier
// life of the directory left (it must not be taken for this attempt's). Returns the
// path written.
StatusOr<std::string> WriteTrialDocument(const store::Claim& claim, const nlohmann::json& inputs,
                                         const std::string& events_path);

}  // namespace orch
