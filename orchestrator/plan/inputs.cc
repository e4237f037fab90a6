#include "orchestrator/plan/inputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "orchestrator/plan/config_schema.h"
#include "orchestrator/plan/matrix.h"
#include "orchestrator/local/subprocess.h"

namespace orch {
namespace fs = std::filesystem;
namespace {

std::string Absolute(const std::string& p, const std::string& base_dir) {
  fs::path path(p);
  if (!p.empty() && p[0] == '~') {
    const char* home = std::getenv("HOME");
    if (home) path = fs::path(home) / p.substr(p.size() > 1 && p[1] == '/' ? 2 : 1);
  }
  if (path.is_relative()) path = fs::path(base_dir) / path;
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(path, ec);
  return (ec ? path.lexically_normal() : canon).string();
}

// SHA-256 of a file, cached by (resolved path, size, mtime).
StatusOr<std::string> FileFingerprint(const std::string& path, store::Store* cache,
                                      bool write_cache) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::Error(path + ": no such file");
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  if (cache) {
    auto hit = cache->CachedFingerprint(path, st.st_size, mtime_ns);
    if (!hit.ok()) return hit.status();
    if (*hit) return **hit;
  }
  auto sha = Sha256File(path);
  if (!sha.ok()) return sha;
  if (cache && write_cache) (void)cache->PutFingerprint(path, st.st_size, mtime_ns, *sha);
  return sha;
}

bool IsModelFile(const std::string& name) {
  auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return name[0] != '.' && (ends(".json") || ends(".safetensors") || ends(".bin"));
}

StatusOr<std::string> DirFingerprint(const std::string& dir, store::Store* cache,
                                     bool write_cache) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && IsModelFile(name)) names.push_back(name);
  }
  if (ec) return Status::Error(dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  Sha256 h;
  for (const auto& n : names) {
    auto f = FileFingerprint(fs::canonical(fs::path(dir) / n).string(), cache, write_cache);
    if (!f.ok()) return f;
    h.Update(n + "\n" + *f + "\n");
  }
  return h.HexDigest();
}

// A named worker: executable check, file fingerprint, and for probed workers the answer
// of `path --build-id` (first line), which covers what the file alone does not (sources
// it loads, library versions).
StatusOr<WorkerBinary> ResolveWorker(const std::string& path, bool probe, store::Store* cache,
                                     bool write_cache) {
  if (::access(path.c_str(), X_OK) != 0) {
    return Status::Error("worker " + path + " is not an executable file");
  }
  auto fp = FileFingerprint(path, cache, write_cache);
  if (!fp.ok()) return fp.status();
  WorkerBinary w{path, *fp, ""};
  if (!probe) return w;
  auto out = CaptureOutput({path, "--build-id"}, kBuildIdProbeTimeoutS);
  if (!out.ok()) {
    return Status::Error("worker " + path + " --build-id failed: " + out.status().message());
  }
  std::string line = out->substr(0, out->find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return Status::Error("worker " + path + " --build-id printed nothing");
  w.probe = line;
  w.build_id = Sha256Hex(*fp + "\n" + line);
  return w;
}

}  // namespace

std::string ReferenceWorkerPath() {
  if (const char* env = std::getenv("ORCH_REFERENCE_WORKER"); env && *env) return env;
  fs::path beside = fs::path(SelfExeDir()) / "orch-reference-worker";
  if (::access(beside.c_str(), X_OK) == 0) return beside.string();
#ifdef ORCH_REFERENCE_WORKER_DEFAULT
  return ORCH_REFERENCE_WORKER_DEFAULT;
#else
  return beside.string();
#endif
}

std::string SelfExeDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

StatusOr<std::string> ResolveModelDir(const std::string& model, const std::string& spec_dir) {
  std::string local = Absolute(model, spec_dir);
  if (fs::is_directory(local)) return local;
  // A hub id "Org/name": models--Org--name/snapshots/<rev> in the Hugging Face cache.
  auto slash = model.find('/');
  bool looks_like_id = slash != std::string::npos && slash > 0 &&
                       model.find('/', slash + 1) == std::string::npos && model[0] != '.' &&
                       model[0] != '/' && model[0] != '~';
  std::string hub;
  if (const char* hf = std::getenv("HF_HUB_CACHE")) hub = hf;
  else if (const char* hf_home = std::getenv("HF_HOME")) hub = std::string(hf_home) + "/hub";
  else if (const char* home = std::getenv("HOME")) hub = std::string(home) + "/.cache/huggingface/hub";
  if (looks_like_id && !hub.empty()) {
    fs::path repo = fs::path(hub) / ("models--" + model.substr(0, slash) + "--" + model.substr(slash + 1));
    std::string rev;
    if (auto ref = ReadFile((repo / "refs" / "main").string()); ref.ok()) {
      rev = *ref;
      while (!rev.empty() && (rev.back() == '\n' || rev.back() == ' ')) rev.pop_back();
    }
    fs::path snapshots = repo / "snapshots";
    if (!rev.empty() && fs::is_directory(snapshots / rev)) return (snapshots / rev).string();
    std::error_code ec;
    std::vector<fs::path> revs;
    for (const auto& e : fs::directory_iterator(snapshots, ec)) {
      if (e.is_directory()) revs.push_back(e.path());
    }
    if (revs.size() == 1) return revs[0].string();
    if (revs.size() > 1) {
      return Status::Error("model '" + model + "' has several snapshots in " + snapshots.string() +
                           " and no refs/main: name the snapshot directory instead");
    }
  }
  std::string msg = "model '" + model + "' not found: " + local + " is not a directory";
  if (looks_like_id) {
    msg += ", and the Hugging Face cache (" + hub + ") has no snapshot of it; download it with `hf download " +
           model + "` (or `huggingface-cli download " + model + "`)";
  }
  return Status::Error(msg);
}

ResolvedInputs ResolveInputs(const Spec& spec, store::Store* cache, bool write_cache,
                             std::vector<SpecError>* errors) {
  ResolvedInputs in;
  auto fail = [&](SourcePos pos, const std::string& key, const std::string& msg) {
    errors->push_back({spec.path, pos, key, msg});
  };
  if (!spec.model.empty()) {
    auto dir = ResolveModelDir(spec.model, spec.dir);
    if (!dir.ok()) {
      fail(spec.model_pos, "model", dir.status().message());
    } else {
      in.model_dir = *dir;
      auto fp = DirFingerprint(in.model_dir, cache, write_cache);
      if (fp.ok()) in.fingerprints["model"] = *fp;
      else fail(spec.model_pos, "model", fp.status().message());
    }
  }
  if (!spec.dataset.empty()) {
    in.dataset = Absolute(spec.dataset, spec.dir);
    in.dataset_is_token_ids = in.dataset.size() > 4 &&
                              in.dataset.compare(in.dataset.size() - 4, 4, ".ids") == 0;
    auto fp = FileFingerprint(in.dataset, cache, write_cache);
    if (fp.ok()) in.fingerprints["dataset"] = *fp;
    else fail(spec.dataset_pos, "dataset", "dataset " + fp.status().message());
  }
  if (!spec.tokenizer.empty()) {
    in.tokenizer = Absolute(spec.tokenizer, spec.dir);
  } else if (!in.model_dir.empty() && fs::exists(fs::path(in.model_dir) / "tokenizer.json")) {
    in.tokenizer = (fs::path(in.model_dir) / "tokenizer.json").string();
  }
  if (!in.tokenizer.empty()) {
    auto fp = FileFingerprint(in.tokenizer, cache, write_cache);
    if (fp.ok()) in.fingerprints["tokenizer"] = *fp;
    else fail(spec.tokenizer_pos, "tokenizer", "tokenizer " + fp.status().message());
  } else if (!spec.dataset.empty() && !in.dataset_is_token_ids) {
    fail(spec.dataset_pos, "dataset",
         "a dataset needs a tokenizer: set `tokenizer:` or use a model directory with "
         "tokenizer.json");
  }
  if (!spec.worker.empty()) {
    in.worker = Absolute(spec.worker, spec.dir);
  } else {
    in.worker = (fs::path(SelfExeDir()) / "orch-worker").string();
  }
  bool uses_orch = false;
  for (const auto& [name, pos] : WorkerNamesUsed(spec)) {
    if (name == kDefaultWorker) {
      uses_orch = true;
      continue;
    }
    const WorkerDecl* decl = spec.FindWorker(name);
    if (!decl && name != kReferenceWorker) continue;  // reported by the spec parser
    std::string path = decl ? Absolute(decl->command, spec.dir) : ReferenceWorkerPath();
    auto w = ResolveWorker(path, decl ? decl->probe : true, cache, write_cache);
    if (w.ok()) {
      in.workers[name] = *w;
    } else {
      fail(decl ? decl->command_pos : pos, "worker",
           "worker '" + name + "': " + w.status().message() +
               (decl ? "" : " (the reference worker needs the project venv with transformers "
                            "and TorchAO: scripts/install-deps.sh)"));
    }
  }
  if (!uses_orch) return in;
  if (::access(in.worker.c_str(), X_OK) != 0) {
    fail(spec.worker_pos, "worker",
         "worker " + in.worker + " is not an executable file" +
             (spec.worker.empty() ? " (the default orch-worker is built by `make`, which needs "
                                    "LibTorch; or set `worker:` in the spec)"
                                  : ""));
  } else {
    auto fp = FileFingerprint(in.worker, cache, write_cache);
    if (fp.ok()) {
      in.worker_id = *fp;
      in.workers[kDefaultWorker] = {in.worker, in.worker_id, ""};
    } else {
      fail(spec.worker_pos, "worker", fp.status().message());
    }
  }
  return in;
}

std::string TrialKey(const nlohmann::json& config, const ResolvedInputs& inputs) {
  return TrialKey(config, IdentityDump(config), inputs);
}

std::string TrialKey(const nlohmann::json& config, const std::string& identity_dump,
                     const ResolvedInputs& inputs) {
  std::string worker_id = inputs.worker_id;
  auto name = config.find("worker");
  if (name != config.end() && name->is_string() && *name != kDefaultWorker) {
    auto it = inputs.workers.find(name->get<std::string>());
    // Unresolved (orch plan without the worker): a provisional key, never the orch one.
    worker_id = it != inputs.workers.end() ? it->second.build_id : "unresolved:" + name->dump();
  }
  // Byte for byte the dump of {"config": identity, "inputs": fingerprints, "worker": id}
  // (sorted keys, no spaces), without copying the identity into a document first.
  return Sha256Hex("{\"config\":" + identity_dump +
                   ",\"inputs\":" + inputs.fingerprints.dump() +
                   ",\"worker\":" + nlohmann::json(worker_id).dump() + "}");
}

}  // namespace orch
