// ModelFiles: where a model's config and weights are on disk. Resolves a local directory
// or a Hugging Face hub id ("EleutherAI/pythia-70m") in the local HF cache, and picks the
// weight format: model.safetensors, sharded safetensors (model.safetensors.index.json) or
// PyTorch's zip pytorch_model.bin. Never downloads; a missing model names the command.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace orch::worker {

enum class WeightFormat { kSafetensors, kPytorchBin };

struct ModelFiles {
  std::string dir;
  std::string config_path;
  WeightFormat format = WeightFormat::kSafetensors;
  std::vector<std::string> weight_paths;  // one file, or the shards in index order
};

// `model` is a directory or a hub id. The hub cache is $HF_HUB_CACHE, $HF_HOME/hub or
// ~/.cache/huggingface/hub; the snapshot named by refs/main wins, else the newest one.
std::optional<ModelFiles> LocateModel(const std::string& model, std::string* error);

}  // namespace orch::worker
