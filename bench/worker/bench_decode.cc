// Decode-loop TPOT (CPU by default, --device cuda for the GPU session) for a fixed model shape
// (Pythia-70M: 6 layers, hidden 512, 8 heads, MLP 2048, vocab 50304) with random weights, compared
// with the memory-bandwidth floor: bytes a step must read (all linear weights, the output head, the
// attended K/V) divided by the bandwidth ATen reaches on a large streaming reduction on this
// machine.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "worker/modes/decode_loop.h"
#include "worker/backend/device.h"
#include "worker/model/gpt_neox.h"
#include "worker/app/trial_runner.h"

namespace {

using namespace orch::worker;
using Clock = std::chrono::steady_clock;

class RandomWeights : public WeightSource {
 public:
  explicit RandomWeights(const ModelConfig& c) {
    const int64_t h = c.hidden_size, f = c.intermediate_size, v = c.vocab_size;
    add("gpt_neox.embed_in.weight", {v, h});
    add("embed_out.weight", {v, h});
    add("gpt_neox.final_layer_norm.weight", {h}, 1.0);
    add("gpt_neox.final_layer_norm.bias", {h});
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const std::string p = "gpt_neox.layers." + std::to_string(i) + ".";
      for (const char* ln : {"input_layernorm", "post_attention_layernorm"}) {
        add(p + ln + ".weight", {h}, 1.0);
        add(p + ln + ".bias", {h});
      }
      add(p + "attention.query_key_value.weight", {3 * h, h});
      add(p + "attention.query_key_value.bias", {3 * h});
      add(p + "attention.dense.weight", {h, h});
      add(p + "attention.dense.bias", {h});
      add(p + "mlp.dense_h_to_4h.weight", {f, h});
      add(p + "mlp.dense_h_to_4h.bias", {f});
      add(p + "mlp.dense_4h_to_h.weight", {h, f});
      add(p + "mlp.dense_4h_to_h.bias", {h});
    }
  }
  bool Has(const std::string& n) const override { return t_.count(n) != 0; }
  std::vector<std::string> Names() const override { return {}; }
  at::Tensor Load(const std::string& n, at::Device d, at::ScalarType s) override {
    return t_.at(n).to(d, s);
  }
  int64_t StoredBytes() const override { return 0; }

 private:
  void add(const std::string& n, std::vector<int64_t> shape, double mean = 0.0) {
    t_[n] = at::randn(shape) * 0.02 + mean;
  }
  std::map<std::string, at::Tensor> t_;
};

ModelConfig Pythia70mShape() {
  ModelConfig c;
  c.vocab_size = 50304;
  c.hidden_size = 512;
  c.num_layers = 6;
  c.num_heads = 8;
  c.intermediate_size = 2048;
  c.max_position_embeddings = 2048;
  c.rotary_pct = 0.25;
  c.use_parallel_residual = true;
  return c;
}

// Bandwidth ATen reaches reading a 512 MiB fp32 tensor (at::sum, all intra-op threads).
double MeasureBandwidthGBs(at::Device device) {
  at::Tensor big = at::ones({128 * 1024 * 1024}, at::TensorOptions().device(device));
  big.sum().item<float>();  // page in
  std::vector<double> gbs;
  for (int i = 0; i < 5; ++i) {
    SynchronizeDevice(device);
    auto t0 = Clock::now();
    big.sum().item<float>();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    gbs.push_back(big.nbytes() / s / 1e9);
  }
  std::sort(gbs.begin(), gbs.end());
  return gbs[gbs.size() / 2];
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  int64_t tokens = 128;
  bool json_out = false;
  std::string device_name = "cpu";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tokens") && i + 1 < argc)
      tokens = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc)
      device_name = argv[++i];
    else if (!std::strcmp(argv[i], "--json"))
      json_out = true;
    else {
      std::fprintf(stderr, "usage: bench_decode [--tokens N] [--device cpu|cuda] [--json]\n");
      return 2;
    }
  }
  std::string err;
  auto device_opt = ParseDevice(device_name, &err);
  if (!device_opt || !DeviceUnavailableReason(*device_opt).empty()) {
    std::fprintf(stderr, "bench_decode: %s%s\n", err.c_str(),
                 device_opt ? DeviceUnavailableReason(*device_opt).c_str() : "");
    return 2;
  }
  const at::Device device = *device_opt;
  const bool cuda = device.is_cuda();
  const int threads = ConfigureThreads();
  at::manual_seed(0);
  const ModelConfig config = Pythia70mShape();
  RandomWeights weights(config);
  const double bw = MeasureBandwidthGBs(device);
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < tokens; ++i)
    ids.push_back(static_cast<int32_t>((i * 7919) % config.vocab_size));

  nlohmann::json rows = nlohmann::json::array();
  struct Case {
    const char* dtype_name;
    at::ScalarType dtype;
    const char* quant;
    std::optional<int64_t> window;
    bool graph;
  };
  std::vector<Case> cases = {{"fp32", at::kFloat, "none", std::nullopt, false},
                             {"fp32", at::kFloat, "none", 60, false},
                             {"bf16", at::kBFloat16, "none", std::nullopt, false},
                             {"fp32", at::kFloat, "int8wo", std::nullopt, false}};
  if (cuda) {
    cases = {{"bf16", at::kBFloat16, "none", std::nullopt, false},
             {"bf16", at::kBFloat16, "none", std::nullopt, true},
             {"bf16", at::kBFloat16, "none", 60, true},
             {"bf16", at::kBFloat16, "int8wo", std::nullopt, false},
             {"bf16", at::kBFloat16, "int8wo", std::nullopt, true},
             {"bf16", at::kBFloat16, "int4wo-g128", std::nullopt, false},
             {"fp16", at::kHalf, "none", std::nullopt, true}};
  }
  for (const Case& c : cases) {
    auto model = GptNeox::Load(config, weights, device, c.dtype);
    std::string err;
    model->Quantize(*ParseQuant(c.quant, &err), "all");
    DecodeOptions opt;
    opt.tokens = tokens;
    opt.warmup = 8;
    opt.policy = CachePolicy{4, c.window};
    opt.cuda_graph = c.graph;
    DecodeRun run = RunDecodeLoop(*model, ids, opt);
    auto m = DecodeMetrics(run.samples);
    // Bytes per step: resident weights minus the embedding table (one row is read), plus
    // the K/V read on the median step (half the cache for a full window).
    const double elem = c10::elementSize(c.dtype);
    const double embed = static_cast<double>(config.vocab_size * config.hidden_size) * elem;
    const double kv_tokens = c.window ? static_cast<double>(4 + *c.window + 1) : tokens / 2.0;
    const double kv = 2.0 * config.num_layers * kv_tokens * config.hidden_size * elem;
    const double bytes = static_cast<double>(model->WeightBytes()) - embed + kv;
    const double floor_ms = bytes / (bw * 1e9) * 1e3;
    rows.push_back({{"dtype", c.dtype_name},
                    {"quant", c.quant},
                    {"compile", c.graph ? "cuda_graph" : "eager"},
                    {"window", c.window ? std::to_string(*c.window) : "full"},
                    {"tpot_ms_median", m["tpot_ms_median"]},
                    {"tpot_ms_p10", m["tpot_ms_p10"]},
                    {"tpot_ms_p90", m["tpot_ms_p90"]},
                    {"bytes_per_token", bytes},
                    {"floor_ms", floor_ms},
                    {"floor_over_tpot", floor_ms / m["tpot_ms_median"]}});
  }
  nlohmann::json report = {{"machine", cuda ? DeviceName(device) : CpuModel()},
                           {"threads", threads},
                           {"tokens", tokens},
                           {"bandwidth_gbs", bw},
                           {"shape", "pythia-70m (random weights)"},
                           {"cases", rows}};
  if (json_out) {
    std::printf("%s\n", report.dump(1).c_str());
    return 0;
  }
  std::printf("machine: %s, threads %d, read bandwidth %.2f GB/s, %lld tokens\n",
              report["machine"].get<std::string>().c_str(), threads, bw,
              static_cast<long long>(tokens));
  std::printf("%-5s %-11s %-10s %-6s %10s %10s %10s %12s %9s %8s\n", "dtype", "quant", "compile",
              "window", "tpot_med", "tpot_p10", "tpot_p90", "MB/token", "floor_ms", "floor%");
  for (const auto& r : rows)
    std::printf("%-5s %-11s %-10s %-6s %10.2f %10.2f %10.2f %12.1f %9.2f %7.0f%%\n",
                r["dtype"].get<std::string>().c_str(), r["quant"].get<std::string>().c_str(),
                r["compile"].get<std::string>().c_str(), r["window"].get<std::string>().c_str(),
                r["tpot_ms_median"].get<double>(), r["tpot_ms_p10"].get<double>(),
                r["tpot_ms_p90"].get<double>(), r["bytes_per_token"].get<double>() / 1e6,
                r["floor_ms"].get<double>(), 100 * r["floor_over_tpot"].get<double>());
  return 0;
}
