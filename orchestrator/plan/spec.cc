#include "orchestrator/plan/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <set>

#include "base/atomic_file.h"
#include "orchestrator/plan/config_schema.h"
#include "orchestrator/cli/terminal_text.h"

namespace orch {
namespace {

SourcePos PosOf(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

const char* KindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "empty";
    default: return "undefined";
  }
}

class SpecParser {
 public:
  SpecParser(const std::string& path, SpecParse* out) : path_(path), out_(out) {}

  void Parse(const YAML::Node& root) {
    Spec& spec = out_->spec;
    if (!root.IsMap()) {
      Error(PosOf(root), "", std::string("the spec must be a mapping, not ") + KindName(root));
      return;
    }
    static const std::set<std::string> kTop = {
        "name",    "context", "conclusion", "model", "tokenizer",  "dataset", "device",
        "worker",  "workers", "defaults",   "studies", "order",    "order_seed", "slurm"};
    std::optional<SourcePos> order_seed_pos, order_pos;
    uint64_t order_seed = 0;
    for (const auto& [key, value] : Entries(root, "")) {
      std::string k = key.as<std::string>();
      if (!kTop.count(k)) {
        Error(PosOf(key), k,
              "unknown key (known: name, context, conclusion, model, tokenizer, dataset, "
              "device, worker, workers, defaults, studies, order, order_seed, slurm)");
      } else if (k == "name") {
        spec.name = Name(value, k);
      } else if (k == "context") {
        spec.context = Text(value, k);
      } else if (k == "conclusion") {
        spec.conclusion = Text(value, k);
      } else if (k == "model") {
        spec.model = Text(value, k);
        spec.model_pos = PosOf(value);
      } else if (k == "tokenizer") {
        spec.tokenizer = Text(value, k);
        spec.tokenizer_pos = PosOf(value);
      } else if (k == "dataset") {
        spec.dataset = Text(value, k);
        spec.dataset_pos = PosOf(value);
      } else if (k == "worker") {
        spec.worker = Text(value, k);
        spec.worker_pos = PosOf(value);
      } else if (k == "workers") {
        Workers(value);
      } else if (k == "device") {
        AddConfig(&spec.defaults, key, value, k);
      } else if (k == "defaults") {
        ConfigMap(value, "defaults", &spec.defaults);
      } else if (k == "studies") {
        Studies(value);
      } else if (k == "order") {
        order_pos = PosOf(key);
        std::string v = Text(value, k);
        if (v == "interleaved" || v == "random") {
          spec.claim_order = v;
        } else if (!v.empty() || value.IsScalar()) {
          Error(PosOf(value), k, "must be interleaved or random, not '" + ForTerminal(v) + "'");
        }
      } else if (k == "order_seed") {
        std::string v = Text(value, k);
        errno = 0;
        if (v.empty() || v.size() > 20 || v.find_first_not_of("0123456789") != std::string::npos ||
            (order_seed = std::strtoull(v.c_str(), nullptr, 10), errno == ERANGE)) {
          if (value.IsScalar()) {
            Error(PosOf(value), k, "must be an integer >= 0, not '" + ForTerminal(v) + "'");
          }
        }
        order_seed_pos = PosOf(key);
      } else if (k == "slurm") {
        Slurm(value);
      }
    }
    // The default order is random (issue 22): a fresh seeded permutation of the cells in
    // every round, so no cell holds the same position (first after the previous round's
    // last) in every round. The recorded order names its seed (default 0), so a reader
    // can reconstruct the claim order.
    if (!order_pos) spec.claim_order = "random";
    if (spec.claim_order == "random") {
      spec.claim_order = "random:" + std::to_string(order_seed);
    } else if (order_seed_pos) {
      Error(*order_seed_pos, "order_seed", "applies only with `order: random` (the default)");
    }
    if (spec.name.empty()) Error(PosOf(root), "name", "missing: every spec needs a `name`");
    if (!root["studies"]) Error(PosOf(root), "studies", "missing: a spec needs `studies`");
    CheckWorkerNames();
  }

 private:
  // `slurm:` is a mapping of scalars or lists of scalars; the keys and values are
  // checked by the SLURM executor's options (slurm_options.h), with these positions.
  void Slurm(const YAML::Node& n) {
    SlurmBlock& b = out_->spec.slurm;
    b.present = true;
    b.pos = PosOf(n);
    if (!n.IsMap()) {
      Error(PosOf(n), "slurm", std::string("must be a mapping, not ") + KindName(n));
      return;
    }
    for (const auto& [key, value] : Entries(n, "slurm")) {
      std::string k = Join("slurm", key.as<std::string>());
      SpecValue v;
      v.pos = PosOf(value);
      if (value.IsScalar()) {
        v.value = Text(value, k);
      } else if (value.IsSequence()) {
        v.value = nlohmann::json::array();
        for (const auto& item : value) {
          if (!item.IsScalar()) {
            Error(PosOf(item), k, std::string("list items must be scalars, not ") + KindName(item));
            continue;
          }
          v.value.push_back(Text(item, k));
        }
      } else {
        Error(PosOf(value), k, std::string("must be a scalar or a list, not ") + KindName(value));
        continue;
      }
      b.entries.emplace_back(key.as<std::string>(), std::move(v));
    }
  }

  void Error(SourcePos pos, const std::string& key, const std::string& message) {
    out_->errors.push_back({path_, pos, key, message});
  }

  // Map entries in file order, reporting duplicate keys (yaml-cpp keeps the last).
  std::vector<std::pair<YAML::Node, YAML::Node>> Entries(const YAML::Node& map,
                                                         const std::string& where) {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        Error(PosOf(it->first), where, "keys must be plain words");
        continue;
      }
      std::string k = it->first.as<std::string>();
      if (FirstInvalidUtf8(k) != std::string::npos) {  // e.g. a "\ud800" escape
        Error(PosOf(it->first), where, "keys must be UTF-8 text");
        continue;
      }
      if (!seen.insert(k).second) {
        Error(PosOf(it->first), Join(where, k), "duplicate key");
        continue;
      }
      out.emplace_back(it->first, it->second);
    }
    return out;
  }

  static std::string Join(const std::string& a, const std::string& b) {
    return a.empty() ? b : a + "." + b;
  }

  std::string Text(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) {
      Error(PosOf(n), key, std::string("must be text, not ") + KindName(n));
      return "";
    }
    std::string s = n.as<std::string>();
    if (FirstInvalidUtf8(s) != std::string::npos) {  // a YAML escape such as "\ud800"
      Error(PosOf(n), key, "must be UTF-8 text");
      return "";
    }
    return s;
  }

  // The sweep's name and a study's id: printed in many places (status lines, the
  // database, file names of reports), so no control characters at all.
  std::string Name(const YAML::Node& n, const std::string& key) {
    std::string s = Text(n, key);
    // Kept despite the error (the spec is invalid anyway) so that no "missing" follows.
    if (ForTerminal(s) != s) {
      Error(PosOf(n), key, "must not contain control characters, not '" + s + "'");
    }
    return s;
  }

  // One config key: value must be a scalar valid for that key.
  bool AddConfig(PartialConfig* pc, const YAML::Node& key, const YAML::Node& value,
                 const std::string& where) {
    std::string k = key.as<std::string>();
    if (!FindConfigKey(k) && !IsUserKey(k)) {
      std::string err;
      NormalizeValue(k, "", &err);
      Error(PosOf(key), where, err);
      return false;
    }
    if (!value.IsScalar()) {
      Error(PosOf(value), where, std::string("must be a single value, not ") + KindName(value));
      return false;
    }
    std::string err;
    auto v = NormalizeValue(k, value.as<std::string>(), &err);
    if (!v) {
      Error(PosOf(value), where, err);
      return false;
    }
    pc->entries.emplace_back(k, SpecValue{*v, PosOf(value)});
    return true;
  }

  // `workers:` maps a name to an executable, or to {command: PATH, build_id: probe|file}.
  void Workers(const YAML::Node& n) {
    if (!n.IsMap()) {
      Error(PosOf(n), "workers", std::string("must map worker names to executables, not ") +
                                     KindName(n));
      return;
    }
    for (const auto& [key, value] : Entries(n, "workers")) {
      std::string name = key.as<std::string>();
      std::string where = "workers." + name;
      WorkerDecl w;
      w.name = name;
      w.pos = PosOf(key);
      if (!IsWorkerName(name)) {
        Error(PosOf(key), where, "a worker name is 1-64 letters, digits, _ - . (not starting "
                                 "with - or .)");
        continue;
      }
      if (name == kDefaultWorker || name == kReferenceWorker) {
        Error(PosOf(key), where, "'" + name + "' is built in" +
                                     (name == kDefaultWorker
                                          ? " (its executable is set by the top-level `worker:`)"
                                          : " (worker/reference); declare your own under another name"));
        continue;
      }
      if (value.IsScalar()) {
        w.command = Text(value, where);
        w.command_pos = PosOf(value);
      } else if (value.IsMap()) {
        for (const auto& [k2, v2] : Entries(value, where)) {
          std::string k = k2.as<std::string>();
          if (k == "command") {
            w.command = Text(v2, where + ".command");
            w.command_pos = PosOf(v2);
          } else if (k == "build_id") {
            std::string b = Text(v2, where + ".build_id");
            if (b == "probe") w.probe = true;
            else if (b != "file") {
              Error(PosOf(v2), where + ".build_id",
                    "must be `file` (the executable's SHA-256) or `probe` (plus the answer of "
                    "`COMMAND --build-id`), not '" + b + "'");
            }
          } else {
            Error(PosOf(k2), where + "." + k, "unknown key (known: command, build_id)");
          }
        }
      } else {
        Error(PosOf(value), where, std::string("must be an executable's path or a mapping with "
                                               "`command`, not ") + KindName(value));
        continue;
      }
      if (w.command.empty()) {
        Error(PosOf(value), where + ".command", "missing: the worker's executable");
        continue;
      }
      out_->spec.workers.push_back(std::move(w));
    }
  }

  // Every `worker` value must name a built-in or declared worker.
  void CheckWorkerNames() {
    const Spec& spec = out_->spec;
    auto check = [&](const SpecValue& v, const std::string& where) {
      if (!v.value.is_string()) return;
      std::string name = v.value.get<std::string>();
      if (name == kDefaultWorker || name == kReferenceWorker || spec.FindWorker(name)) return;
      std::string known = std::string(kDefaultWorker) + ", " + kReferenceWorker;
      for (const auto& w : spec.workers) known += ", " + w.name;
      Error(v.pos, where, "unknown worker '" + name + "' (known: " + known +
                              "; declare others under `workers:`)");
    };
    auto check_config = [&](const PartialConfig& pc, const std::string& where) {
      if (const SpecValue* v = pc.Find("worker")) check(*v, where + ".worker");
    };
    check_config(spec.defaults, "defaults");
    for (size_t i = 0; i < spec.studies.size(); ++i) {
      const StudySpec& s = spec.studies[i];
      std::string where = "studies[" + std::to_string(i) + "]";
      check_config(s.settings, where);
      check_config(s.baseline, where + ".baseline");
      for (size_t j = 0; j < s.include.size(); ++j) {
        check_config(s.include[j], where + ".include[" + std::to_string(j) + "]");
      }
      for (size_t j = 0; j < s.exclude.size(); ++j) {
        check_config(s.exclude[j], where + ".exclude[" + std::to_string(j) + "]");
      }
      for (const Axis& a : s.matrix) {
        if (a.name != "worker") continue;
        for (const SpecValue& v : a.values) check(v, where + ".matrix.worker");
      }
    }
  }

  void ConfigMap(const YAML::Node& n, const std::string& where, PartialConfig* pc) {
    pc->pos = PosOf(n);
    if (!n.IsMap()) {
      Error(PosOf(n), where, std::string("must be a mapping of config keys, not ") + KindName(n));
      return;
    }
    for (const auto& [key, value] : Entries(n, where)) {
      AddConfig(pc, key, value, Join(where, key.as<std::string>()));
    }
  }

  void Studies(const YAML::Node& n) {
    if (!n.IsSequence() || n.size() == 0) {
      Error(PosOf(n), "studies", "must be a non-empty list of studies");
      return;
    }
    std::set<std::string> ids;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string where = "studies[" + std::to_string(i) + "]";
      StudySpec s;
      if (Study(n[i], where, &s)) {
        if (!ids.insert(s.id).second) {
          Error(s.pos, where + ".id", "duplicate study id '" + s.id + "'");
        }
        out_->spec.studies.push_back(std::move(s));
      }
    }
  }

  bool Study(const YAML::Node& n, const std::string& where, StudySpec* s) {
    s->pos = PosOf(n);
    if (!n.IsMap()) {
      Error(PosOf(n), where, std::string("a study must be a mapping, not ") + KindName(n));
      return false;
    }
    s->settings.pos = PosOf(n);
    bool has_matrix = false, has_include = false;
    for (const auto& [key, value] : Entries(n, where)) {
      std::string k = key.as<std::string>();
      std::string kw = Join(where, k);
      if (k == "id") {
        s->id = Name(value, kw);
        s->pos = PosOf(value);
      } else if (k == "title") {
        s->title = Text(value, kw);
      } else if (k == "notes") {
        s->notes = Text(value, kw);
      } else if (k == "baseline") {
        ConfigMap(value, kw, &s->baseline);
      } else if (k == "matrix") {
        has_matrix = true;
        Matrix(value, kw, s);
      } else if (k == "include") {
        has_include = true;
        EntryList(value, kw, &s->include);
      } else if (k == "exclude") {
        EntryList(value, kw, &s->exclude);
      } else if (FindConfigKey(k) || IsUserKey(k)) {
        AddConfig(&s->settings, key, value, kw);
      } else {
        Error(PosOf(key), kw,
              "unknown study key (known: id, title, notes, baseline, matrix, include, exclude, "
              "or a config key: " + JoinNames() + ")");
      }
    }
    if (s->id.empty()) Error(PosOf(n), where + ".id", "missing: every study needs an `id`");
    if (!has_matrix && !has_include) {
      Error(PosOf(n), where + ".matrix", "empty matrix: the study has no `matrix` or `include`");
    }
    for (const auto& e : s->exclude) {
      for (const auto& [k, v] : e.entries) {
        bool is_axis = false;
        for (const auto& a : s->matrix) is_axis |= a.name == k;
        if (!is_axis) {
          Error(v.pos, where + ".exclude." + k,
                "exclude names '" + k + "', which is not an axis of this study's matrix");
        }
      }
    }
    return true;
  }

  static std::string JoinNames() {
    std::string out;
    for (const auto& k : ConfigKeys()) out += (out.empty() ? "" : ", ") + k.name;
    return out;
  }

  void Matrix(const YAML::Node& n, const std::string& where, StudySpec* s) {
    if (!n.IsMap() || n.size() == 0) {
      Error(PosOf(n), where, "empty matrix: `matrix` must map axes to lists of values");
      return;
    }
    for (const auto& [key, value] : Entries(n, where)) {
      std::string k = key.as<std::string>();
      std::string kw = Join(where, k);
      Axis axis{k, {}, PosOf(key)};
      std::string err;
      if (!FindConfigKey(k) && !IsUserKey(k)) {
        NormalizeValue(k, "", &err);
        Error(PosOf(key), kw, err);
        continue;
      }
      if (value.IsScalar()) {  // `dtype: fp16` in a matrix: a one-value axis
        auto v = NormalizeValue(k, value.as<std::string>(), &err);
        if (v) axis.values.push_back({*v, PosOf(value)});
        else Error(PosOf(value), kw, err);
      } else if (value.IsSequence()) {
        if (value.size() == 0) Error(PosOf(value), kw, "empty axis: give at least one value");
        std::set<std::string> seen;
        for (const auto& item : value) {
          if (!item.IsScalar()) {
            Error(PosOf(item), kw, std::string("axis values must be scalars, not ") + KindName(item));
            continue;
          }
          auto v = NormalizeValue(k, item.as<std::string>(), &err);
          if (!v) {
            Error(PosOf(item), kw, err);
            continue;
          }
          if (!seen.insert(v->dump()).second) {
            Error(PosOf(item), kw, "duplicate value " + v->dump() + " (would make duplicate cells)");
            continue;
          }
          axis.values.push_back({*v, PosOf(item)});
        }
      } else {
        Error(PosOf(value), kw, std::string("an axis must be a list of values, not ") + KindName(value));
        continue;
      }
      s->matrix.push_back(std::move(axis));
    }
  }

  void EntryList(const YAML::Node& n, const std::string& where, std::vector<PartialConfig>* out) {
    if (!n.IsSequence()) {
      Error(PosOf(n), where, std::string("must be a list of mappings, not ") + KindName(n));
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      PartialConfig pc;
      ConfigMap(n[i], where + "[" + std::to_string(i) + "]", &pc);
      if (n[i].IsMap() && n[i].size() == 0) {
        Error(PosOf(n[i]), where + "[" + std::to_string(i) + "]", "empty entry");
      }
      out->push_back(std::move(pc));
    }
  }

  std::string path_;
  SpecParse* out_;
};

// The dotted path (as SpecError::key) of the node that starts last at or before byte
// `offset`, visiting at most *budget nodes.
void FindKeyAt(const YAML::Node& n, const std::string& path, size_t offset, int* budget,
               size_t* best_pos, std::string* best) {
  if (--*budget < 0) return;
  YAML::Mark m = n.Mark();
  if (m.is_null() || static_cast<size_t>(m.pos) > offset) return;
  if (static_cast<size_t>(m.pos) >= *best_pos) {
    *best_pos = static_cast<size_t>(m.pos);
    *best = path;
  }
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string k = it->first.IsScalar() ? it->first.Scalar() : "?";
      std::string child = path.empty() ? k : path + "." + k;
      FindKeyAt(it->first, child, offset, budget, best_pos, best);
      FindKeyAt(it->second, child, offset, budget, best_pos, best);
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      FindKeyAt(n[i], path + "[" + std::to_string(i) + "]", offset, budget, best_pos, best);
    }
  }
}

}  // namespace

std::string SpecError::ToString() const {
  std::string out = file;
  if (pos.line > 0) out += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  // Keys and values quoted in messages come from the spec: made safe for a terminal.
  return ForTerminal(out + message);
}

const WorkerDecl* Spec::FindWorker(const std::string& name) const {
  for (const auto& w : workers) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

std::vector<std::pair<std::string, SourcePos>> WorkerNamesUsed(const Spec& spec) {
  std::vector<std::pair<std::string, SourcePos>> out;
  auto add = [&](const SpecValue* v) {
    if (!v || !v->value.is_string()) return;
    std::string name = v->value.get<std::string>();
    for (const auto& [n, pos] : out) {
      if (n == name) return;
    }
    out.emplace_back(name, v->pos);
  };
  const SpecValue* default_worker = spec.defaults.Find("worker");
  SpecValue orch{nlohmann::json(kDefaultWorker), spec.worker_pos};
  add(default_worker ? default_worker : &orch);
  for (const StudySpec& s : spec.studies) {
    add(s.settings.Find("worker"));
    for (const PartialConfig& inc : s.include) add(inc.Find("worker"));
    for (const Axis& a : s.matrix) {
      if (a.name != "worker") continue;
      for (const SpecValue& v : a.values) add(&v);
    }
  }
  return out;
}

const SpecValue* PartialConfig::Find(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

SpecParse ParseSpec(const std::string& path, const std::string& text) {
  SpecParse out;
  out.spec.path = path;
  out.spec.text = text;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  out.spec.dir = dir.empty() ? "." : dir.string();
  // A spec is UTF-8 text. The first ill-formed byte is reported with its position; the
  // rest is parsed with it replaced, so that every other error is reported too.
  std::string_view yaml = text;
  std::string repaired;
  const size_t bad = FirstInvalidUtf8(text);
  if (bad != std::string::npos) {
    size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    line_start = line_start == std::string::npos || bad == 0 ? 0 : line_start + 1;
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + bad, '\n'));
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(text[bad]));
    out.errors.push_back({path, {line, static_cast<int>(bad - line_start) + 1}, "",
                          std::string("invalid UTF-8 (byte ") + byte +
                              "): a spec must be UTF-8 text"});
    repaired = ValidUtf8(text);
    yaml = repaired;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    out.errors.push_back({path, {e.mark.line + 1, e.mark.column + 1}, "", "YAML: " + e.msg});
    return out;
  } catch (const std::exception& e) {
    out.errors.push_back({path, {}, "", std::string("the spec could not be read: ") + e.what()});
    return out;
  }
  if (bad != std::string::npos) {
    // Name the key whose text holds the bad byte: the node that starts last before it.
    size_t best_pos = 0;
    int budget = 100000;  // aliases can make the tree exponentially larger than the file
    FindKeyAt(root, "", bad, &budget, &best_pos, &out.errors.front().key);
  }
  try {
    SpecParser(path, &out).Parse(root);
  } catch (const YAML::Exception& e) {
    out.errors.push_back({path, {e.mark.line + 1, e.mark.column + 1}, "", "YAML: " + e.msg});
  } catch (const std::exception& e) {  // e.g. bad_alloc: still an answer, not an abort
    out.errors.push_back({path, {}, "", std::string("the spec could not be read: ") + e.what()});
  }
  return out;
}

SpecParse LoadSpec(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    SpecParse out;
    out.spec.path = path;
    out.errors.push_back({path, {}, "", text.status().message()});
    return out;
  }
  return ParseSpec(path, *text);
}

}  // namespace orch
