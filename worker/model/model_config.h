// ModelConfig: the GPT-NeoX hyper-parameters the forward pass needs, read from a Hugging
// Face config.json. Accepts both the classic keys (rotary_pct, rotary_emb_base; Pythia's
// files) and transformers 5's rope_parameters {partial_rotary_factor, rope_theta}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace orch::worker {

struct ModelConfig {
  std::string model_type = "gpt_neox";
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  double rotary_pct = 1.0;
  double rotary_base = 10000.0;
  double layer_norm_eps = 1e-5;
  bool use_parallel_residual = true;
  bool attention_bias = true;
  bool tie_word_embeddings = false;
  std::string hidden_act = "gelu";
  std::string torch_dtype;  // the checkpoint's dtype as recorded, informational

  int64_t head_dim() const { return hidden_size / num_heads; }
  // As in transformers: int(head_dim * rotary_pct), the leading dims of each head.
  int64_t rotary_dims() const { return static_cast<int64_t>(head_dim() * rotary_pct); }
};

// Parses config.json text; nullopt with *error naming the problem (unsupported model_type,
// activation or missing key).
std::optional<ModelConfig> ParseModelConfig(const std::string& json_text, std::string* error);
std::optional<ModelConfig> ReadModelConfig(const std::string& path, std::string* error);

}  // namespace orch::worker
