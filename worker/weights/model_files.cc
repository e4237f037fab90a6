#include "worker/weights/model_files.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace orch::worker {
namespace fs = std::filesystem;
namespace {

std::string HubCacheDir() {
  if (const char* v = std::getenv("HF_HUB_CACHE"); v && *v) return v;
  if (const char* v = std::getenv("HF_HOME"); v && *v) return std::string(v) + "/hub";
  if (const char* v = std::getenv("HOME"); v && *v)
    return std::string(v) + "/.cache/huggingface/hub";
  return "";
}

std::optional<std::string> ResolveHubId(const std::string& id, std::string* searched) {
  std::string cache = HubCacheDir();
  std::string repo = "models--" + id;
  for (auto pos = repo.find('/'); pos != std::string::npos; pos = repo.find('/'))
    repo.replace(pos, 1, "--");
  fs::path root = fs::path(cache) / repo;
  *searched = root.string();
  std::error_code ec;
  if (!fs::is_directory(root / "snapshots", ec)) return std::nullopt;
  std::ifstream ref(root / "refs" / "main");
  std::string rev;
  if (ref && std::getline(ref, rev) && fs::is_directory(root / "snapshots" / rev, ec)) {
    return (root / "snapshots" / rev).string();
  }
  std::optional<fs::path> newest;
  fs::file_time_type newest_time;
  for (const auto& e : fs::directory_iterator(root / "snapshots", ec)) {
    if (!e.is_directory()) continue;
    auto t = e.last_write_time(ec);
    if (!newest || t > newest_time) {
      newest = e.path();
      newest_time = t;
    }
  }
  if (newest) return newest->string();
  return std::nullopt;
}

}  // namespace

std::optional<ModelFiles> LocateModel(const std::string& model, std::string* error) {
  std::error_code ec;
  std::string dir;
  if (model.empty()) {
    *error = "no model given (trial.json inputs.model is absent)";
    return std::nullopt;
  }
  if (fs::is_directory(model, ec)) {
    dir = model;
  } else if (model.front() != '/' && model.find('/') != std::string::npos &&
             model.find("./") == std::string::npos) {
    std::string searched;
    auto snap = ResolveHubId(model, &searched);
    if (!snap) {
      *error = "model '" + model + "' is neither a directory nor in the Hugging Face cache (" +
               searched + "); download it with: huggingface-cli download " + model +
               " config.json model.safetensors  (or: hf download " + model + ")";
      return std::nullopt;
    }
    dir = *snap;
  } else {
    *error = "model directory " + model + " does not exist";
    return std::nullopt;
  }

  ModelFiles f;
  f.dir = dir;
  f.config_path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(f.config_path, ec)) {
    *error = "model directory " + dir + " has no config.json";
    return std::nullopt;
  }
  fs::path single = fs::path(dir) / "model.safetensors";
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  fs::path bin = fs::path(dir) / "pytorch_model.bin";
  if (fs::exists(single, ec)) {
    f.format = WeightFormat::kSafetensors;
    f.weight_paths = {single.string()};
  } else if (fs::exists(index, ec)) {
    std::ifstream in(index);
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
      *error = index.string() + ": no weight_map";
      return std::nullopt;
    }
    std::set<std::string> seen;
    for (const auto& [name, file] : j["weight_map"].items()) {
      std::string shard = (fs::path(dir) / file.get<std::string>()).string();
      if (seen.insert(shard).second) f.weight_paths.push_back(shard);
    }
    f.format = WeightFormat::kSafetensors;
  } else if (fs::exists(bin, ec)) {
    f.format = WeightFormat::kPytorchBin;
    f.weight_paths = {bin.string()};
  } else {
    *error = "model directory " + dir +
             " has no model.safetensors, model.safetensors.index.json or pytorch_model.bin";
    return std::nullopt;
  }
  return f;
}

}  // namespace orch::worker
