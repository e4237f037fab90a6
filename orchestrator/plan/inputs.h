// Inputs: the files a sweep depends on (model, tokenizer, dataset, worker executable),
// resolved to absolute paths and fingerprinted (SHA-256), and the trial key that binds a
// cell's configuration to them. Fingerprints are cached by (path, size, mtime) in the
// store so a 5 GB model is hashed once, not on every run. Not thread-safe (uses the store).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "orchestrator/plan/spec.h"
#include "store/store.h"

namespace orch {

// One worker a sweep's cells use (a value of the config key `worker`).
struct WorkerBinary {
  std::string path;      // absolute path of the executable
  std::string build_id;  // what the trial key holds: SHA-256 of the file (and of the probe)
  std::string probe;     // the answer of `path --build-id` for probed workers, else empty
};

struct ResolvedInputs {
  std::string model_dir;   // empty when the spec names no model
  std::string tokenizer;   // empty when none is needed
  std::string dataset;     // empty when the spec names no dataset
  bool dataset_is_token_ids = false;  // a *.ids file: already token ids (docs/protocol.md)
  std::string worker;      // absolute path of the worker executable
  std::string worker_id;   // build id: SHA-256 of the worker executable
  // Every worker the spec's cells name (WorkerNamesUsed), `orch` (= worker, worker_id)
  // included when used. Probed once per plan: `orch run` and `orch plan` resolve once.
  std::map<std::string, WorkerBinary> workers;
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

// The trial key: SHA-256 of the canonical identity config, the build id of the cell's
// worker (config `worker`, default orch) and the input fingerprints. Key order in the
// YAML never matters (canonical JSON, sorted keys).
std::string TrialKey(const nlohmann::json& config, const ResolvedInputs& inputs);
// The same with the identity already serialized (IdentityConfig(config).dump(), as the
// matrix expansion has it for every cell): the same key, the identity not built again.
std::string TrialKey(const nlohmann::json& config, const std::string& identity_dump,
                     const ResolvedInputs& inputs);

// Directory of the running orch executable (the default worker lives beside it).
std::string SelfExeDir();

// The built-in `reference` worker: $ORCH_REFERENCE_WORKER, else orch-reference-worker
// beside orch, else worker/reference/orch-reference-worker of the source tree orch was
// built from.
std::string ReferenceWorkerPath();

// How long `WORKER --build-id` may take (it imports nothing heavy, but Python starts
// slowly on a loaded machine).
inline constexpr double kBuildIdProbeTimeoutS = 60;

}  // namespace orch
