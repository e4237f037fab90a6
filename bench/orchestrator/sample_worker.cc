// sample_worker: a protocol-1 worker for bench/orchestrator/scale.sh. It does no model
// work and writes a result shaped like orch-worker's: `tokens` per-token latencies and
// NLLs after `warmup` leading steps, PPL, TPOT median and peak memory, a warning, the
// environment. The latencies depend on the cell (its `quant`, `dtype` and `window`, so
// the report has real differences to find) and on the trial key and replicate (so the
// replicates of a cell differ as real processes do), through a fixed hash: the same
// sweep gives the same numbers every time. Two kinds of cell fail, the way unsupported
// and diverged trials do, so the report's failure sections have rows at every size:
// int8da at a window (`blocked`) and int4wo-g128 fp16 with x_i "0" (`nan`). Reads
// nothing but trial.json; never sleeps.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// splitmix64: a well-mixed stream from one seed.
uint64_t Next(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double Uniform(uint64_t* state) { return (Next(state) >> 11) * (1.0 / 9007199254740992.0); }

// The cell's true TPOT in ms: a base scaled by what the config says (a model of a
// bandwidth-bound decode step; the numbers only need to differ between cells).
double CellTpot(const nlohmann::json& config) {
  double ms = 20.0;
  std::string quant = config.value("quant", "none");
  if (quant.rfind("int8", 0) == 0) ms *= 0.6;
  if (quant.rfind("int4", 0) == 0) ms *= 0.4;
  if (config.value("dtype", "fp32") == "fp32") ms *= 2.0;
  if (config.contains("window") && config["window"].is_number()) ms *= 0.9;
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--trial") {
    std::fprintf(stderr, "usage: sample_worker --trial TRIAL_JSON\n");
    return 2;
  }
  std::ifstream in(argv[2]);
  nlohmann::json trial = nlohmann::json::parse(in, nullptr, false);
  if (trial.is_discarded()) {
    std::fprintf(stderr, "sample_worker: %s is not JSON\n", argv[2]);
    return 2;
  }
  const nlohmann::json& config = trial["config"];
  const std::string key = trial.value("trial_key", "");
  const int replicate = trial.value("replicate", 1);
  const std::string result_path = trial.value("result_path", "");
  nlohmann::json result = {{"protocol", 1}, {"outcome", "ok"}};
  const std::string quant = config.value("quant", "none");
  const bool windowed = config.contains("window") && config["window"].is_number();
  if (quant == "int8da" && windowed) {
    result["outcome"] = "blocked";
    result["reason"] = "no int8da kernel for a windowed cache on this device";
  } else if (quant == "int4wo-g128" && config.value("dtype", "") == "fp16" &&
             config.value("x_i", "") == "0") {
    result["outcome"] = "nan";
    result["reason"] = "non-finite logits at token 3 (layer 2)";
  } else {
    uint64_t state = Fnv1a(key + ":" + std::to_string(replicate));
    const int tokens = config.value("tokens", 128);
    const int warmup = config.value("warmup", 8);
    // A between-process factor (machine state of that minute) and per-token noise.
    const double process = std::exp(0.05 * (Uniform(&state) - 0.5));
    const double tpot = CellTpot(config) * process;
    nlohmann::json lat = nlohmann::json::array(), nll = nlohmann::json::array();
    double nll_sum = 0;
    for (int i = 0; i < warmup + tokens; ++i) {
      double t = tpot * (1.0 + 0.1 * Uniform(&state)) * (i < warmup ? 3.0 : 1.0);
      double n = 2.0 + Uniform(&state);
      lat.push_back(std::round(t * 1e4) / 1e4);
      nll.push_back(std::round(n * 1e4) / 1e4);
      if (i >= warmup) nll_sum += n;
    }
    result["metrics"] = {{"ppl", std::exp(nll_sum / tokens)},
                         {"tpot_ms_median", tpot * 1.05},
                         {"peak_mem_bytes", 1.5e9 * CellTpot(config) / 40.0},
                         {"tokens_evaluated", tokens}};
    result["samples"] = {{{"repeat", 0}, {"warmup", warmup}, {"latency_ms", lat}, {"nll", nll}}};
    result["warnings"] = {"sample_worker: synthetic numbers (bench/orchestrator/scale.sh)"};
  }
  result["environment"] = {{"device_name", "sample_worker"}};
  std::string tmp = result_path + ".tmp";
  {
    std::ofstream out(tmp);
    out << result.dump() << "\n";
    if (!out) return 3;
  }
  return std::rename(tmp.c_str(), result_path.c_str()) == 0 ? 0 : 3;
}
