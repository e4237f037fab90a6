// Inputs: the files a sweep depends on (model, tokenizer, dataset, worker executable),
// resolved to absolute paths and fingerprinted (SHA-256), and the trial key that binds a
// cell's configuration to them. Fingerprints are cached by (path, size, mtime) in the
// store so a 5 GB model is hashed once, not on every run. Not thread-safe (uses the store).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "orchestrator/spec.h"
#include "store/store.h"

namespace orch {

struct ResolvedInputs {
  std::string model_dir;   // empty when the spec names no model
  std::string tokenizer;   // empty when none is needed
  std::string dataset;     // empty when the spec names no dataset
  bool dataset_is_token_ids = false;  // a *.ids file: already token ids (docs/protocol.md)
  std::string worker;      // absolute path of the worker executable
  std::string worker_id;   // build id: SHA-256 of the worker executable
  nlohmann::json fingerprints = nlohmann::json::object();  // input name -> SHA-256
};

// Finds `model` as a directory (relative to the spec) or a Hugging Face hub id in the
// local cache ($HF_HOME/hub or ~/.cache/huggingface/hub). The error names the command
// that downloads a missing model.
StatusOr<std::string> ResolveModelDir(const std::string& model, const std::string& spec_dir);

// Resolves and fingerprints every input of the spec. `cache` may be null (no caching)
// or read-only (`write_cache` false, for `orch plan`, which has no side effects).
// Problems are reported as spec errors at the key that names the input.
ResolvedInputs ResolveInputs(const Spec& spec, store::Store* cache, bool write_cache,
                             std::vector<SpecError>* errors);

// The trial key: SHA-256 of the canonical identity config, the worker build id and the
// input fingerprints. Key order in the YAML never matters (canonical JSON, sorted keys).
std::string TrialKey(const nlohmann::json& config, const ResolvedInputs& inputs);

// Directory of the running orch executable (the default worker lives beside it).
std::string SelfExeDir();

}  // namespace orch
