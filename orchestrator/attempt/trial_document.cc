#include "orchestrator/attempt/trial_document.h"

#include <filesystem>

#include "orchestrator/attempt/attempt_files.h"
#include "base/atomic_file.h"

namespace orch {

nlohmann::json TrialDocument(const store::Claim& c, const nlohmann::json& inputs,
                             const std::string& events_path) {
  nlohmann::json config = nlohmann::json::parse(c.config_json, nullptr, false);
  // Each replicate is its own worker process running the decode loop once; the trial's
  // key and recorded config keep `repeats: N` (docs/protocol.md, "replicate").
  if (config.is_object() && config.contains("repeats")) config["repeats"] = 1;
  return {
      {"protocol", 1},
      {"trial_key", c.trial_key},
      {"attempt", c.attempt_number},
      {"replicate", c.replicate},
      {"replicates", c.replicates},
      {"attempt_dir", c.attempt_dir},
      {"events_path", events_path},
      {"result_path", ResultFilePath(c.attempt_dir)},
      {"config", config},
      {"inputs", inputs},
  };
}

StatusOr<std::string> WriteTrialDocument(const store::Claim& c, const nlohmann::json& inputs,
                                         const std::string& events_path) {
  std::string path = TrialFilePath(c.attempt_dir);
  if (Status s = WriteFileAtomically(path, TrialDocument(c, inputs, events_path).dump(2) + "\n");
      !s.ok()) {
    return s;
  }
  std::error_code ec;
  std::filesystem::remove(ResultFilePath(c.attempt_dir), ec);
  return path;
}

}  // namespace orch
