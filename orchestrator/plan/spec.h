// Spec: an experiment file (YAML) parsed and validated before anything runs or is
// written. Every problem is reported at once, each naming file:line:column and the key,
// so a researcher fixes the whole file in one go. Pure: reads the file, nothing else.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace orch {

struct SourcePos {
  int line = 0;  // 1-based; 0 = unknown
  int column = 0;
};

struct SpecError {
  std::string file;
  SourcePos pos;
  std::string key;  // dotted path of the offending key, e.g. studies[1].matrix.quant
  std::string message;
  std::string ToString() const;  // "file:line:col: key: message"
};

// A value as written in the spec, already normalized (see config_schema.h).
struct SpecValue {
  nlohmann::json value;
  SourcePos pos;
};

// Config keys in the order written, e.g. a study's settings or one include entry.
struct PartialConfig {
  std::vector<std::pair<std::string, SpecValue>> entries;
  SourcePos pos;
  const SpecValue* Find(const std::string& key) const;
};

struct Axis {
  std::string name;
  std::vector<SpecValue> values;
  SourcePos pos;
};

struct StudySpec {
  std::string id, title, notes;
  SourcePos pos;
  PartialConfig settings;  // study-level config keys (apply to every cell of the study)
  std::vector<Axis> matrix;
  std::vector<PartialConfig> include, exclude;
  PartialConfig baseline;  // names the study's baseline cell for the report
};

// A worker declared under `workers:` (docs/protocol.md, "Several workers in one sweep"):
//   workers:
//     mystack: ../my_worker.py                           # an executable, relative to the spec
//     other: {command: ../other.sh, build_id: probe}     # build id from `other.sh --build-id`
struct WorkerDecl {
  std::string name;
  std::string command;  // as written
  bool probe = false;   // build id: the file's SHA-256 plus the answer of `command --build-id`
  SourcePos pos;        // of the name
  SourcePos command_pos;
};

// The `slurm:` block as written: each key with a scalar (as text) or a list of scalars
// (as an array of texts). orchestrator/slurm/slurm_options.h validates it.
struct SlurmBlock {
  bool present = false;
  SourcePos pos;
  std::vector<std::pair<std::string, SpecValue>> entries;
};

struct Spec {
  std::string path;  // as given
  std::string dir;   // directory of the file, for relative paths inside it
  std::string text;  // the file's bytes, snapshotted into the database
  std::string name, context, conclusion;
  std::string model, tokenizer, dataset, worker;  // as written; resolved later
  SourcePos model_pos, tokenizer_pos, dataset_pos, worker_pos;
  PartialConfig defaults;  // top-level `device` lands here too
  // `order` (+ `order_seed`): the order replicates are claimed in, as recorded with the
  // sweep: "interleaved" or "random:SEED" (store/claim_order.h).
  std::string claim_order = "interleaved";
  std::vector<StudySpec> studies;
  std::vector<WorkerDecl> workers;  // declared under `workers:`, in file order
  const WorkerDecl* FindWorker(const std::string& name) const;
  SlurmBlock slurm;  // options of the SLURM executor (`orch run --executor slurm`)
};

// The worker names the spec's cells can use: the spec default (`orch` unless `defaults`
// sets `worker`) and every `worker` value written in studies (settings, matrix, include).
// Each with the position of its first mention (or of the spec when only the default).
std::vector<std::pair<std::string, SourcePos>> WorkerNamesUsed(const Spec& spec);

struct SpecParse {
  Spec spec;
  std::vector<SpecError> errors;  // empty = valid
  bool ok() const { return errors.empty(); }
};

// Parses `text` as the spec file `path` (path is used for messages and relative paths).
SpecParse ParseSpec(const std::string& path, const std::string& text);
// Reads and parses a spec file.
SpecParse LoadSpec(const std::string& path);

}  // namespace orch
