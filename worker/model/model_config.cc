#include "worker/model/model_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace orch::worker {

std::optional<ModelConfig> ParseModelConfig(const std::string& text, std::string* error) {
  using nlohmann::json;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "config.json: not a JSON object";
    return std::nullopt;
  }
  ModelConfig c;
  c.model_type = j.value("model_type", std::string("gpt_neox"));
  if (c.model_type != "gpt_neox") {
    *error = "config.json: model_type '" + c.model_type + "' is not supported (only gpt_neox)";
    return std::nullopt;
  }
  auto need = [&](const char* key, int64_t* out) {
    if (!j.contains(key) || !j[key].is_number_integer()) {
      *error = std::string("config.json: ") + key + ": missing or not an integer";
      return false;
    }
    *out = j[key].get<int64_t>();
    return true;
  };
  if (!need("vocab_size", &c.vocab_size) || !need("hidden_size", &c.hidden_size) ||
      !need("num_hidden_layers", &c.num_layers) || !need("num_attention_heads", &c.num_heads) ||
      !need("intermediate_size", &c.intermediate_size)) {
    return std::nullopt;
  }
  c.max_position_embeddings = j.value("max_position_embeddings", int64_t{2048});
  c.rotary_pct = j.value("rotary_pct", 1.0);
  c.rotary_base = j.value("rotary_emb_base", 10000.0);
  if (auto it = j.find("rope_parameters"); it != j.end() && it->is_object()) {
    c.rotary_pct = it->value("partial_rotary_factor", c.rotary_pct);
    c.rotary_base = it->value("rope_theta", c.rotary_base);
    std::string type = it->value("rope_type", std::string("default"));
    if (type != "default") {
      *error = "config.json: rope_type '" + type + "' is not supported (only default)";
      return std::nullopt;
    }
  }
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
    *error = "config.json: rope_scaling is not supported";
    return std::nullopt;
  }
  c.layer_norm_eps = j.value("layer_norm_eps", 1e-5);
  c.use_parallel_residual = j.value("use_parallel_residual", true);
  c.attention_bias = j.value("attention_bias", true);
  c.tie_word_embeddings = j.value("tie_word_embeddings", false);
  c.hidden_act = j.value("hidden_act", std::string("gelu"));
  if (c.hidden_act != "gelu") {
    *error =
        "config.json: hidden_act '" + c.hidden_act + "' is not supported (only exact-erf gelu)";
    return std::nullopt;
  }
  if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"];
  if (j.contains("dtype") && j["dtype"].is_string()) c.torch_dtype = j["dtype"];
  if (c.num_heads <= 0 || c.hidden_size % c.num_heads != 0) {
    *error = "config.json: hidden_size must be a multiple of num_attention_heads";
    return std::nullopt;
  }
  if (c.rotary_dims() % 2 != 0) {
    *error = "config.json: rotary dims (head_dim * rotary_pct) must be even";
    return std::nullopt;
  }
  return c;
}

std::optional<ModelConfig> ReadModelConfig(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseModelConfig(ss.str(), error);
  if (!c) *error = path + ": " + error->substr(error->find(':') + 2);
  return c;
}

}  // namespace orch::worker
