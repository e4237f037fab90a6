// Decode-loop TPOT against the memory-bandwidth floor measured in the same run
// (docs/benchmarks.md, "Worker decode loop"). Random weights, generated on the device in the
// model dtype (no host copy, no download), or with --model DIR a Hugging Face folder's config
// and weights (run_llama_cpp.sh: the same random weights llama.cpp reads), for one of two
// shapes:
//   pythia-70m   hidden 512, 6 layers, 8 heads, MLP 2048   (CPU default)
//   pythia-2.8b  hidden 2560, 32 layers, 32 heads, MLP 10240 (the GPU check)
// both with vocab 50304, rotary_pct 0.25 and parallel residual.
// Floor = bytes a step must read (weights in their stored form, minus the embedding table of
// which one row is read, plus the K/V the timed steps attend) / measured bandwidth:
//   CPU: median of N streaming at::sum over 512 MiB fp32 with the bench's thread count;
//   CUDA: median of 20 device-to-device copies of 2 GiB (4 GiB read + written), CUDA events.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <time.h>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "worker/app/build_id.h"
#include "worker/backend/cuda_graph_step.h"
#include "worker/backend/device.h"
#include "worker/cpu_kernels/gemv_kernels.h"
#include "worker/model/gpt_neox.h"
#include "worker/modes/decode_loop.h"
#include "worker/weights/model_files.h"
#include "worker/weights/weight_source.h"

namespace {

using namespace orch::worker;
using Clock = std::chrono::steady_clock;

// Every tensor of a GPT-NeoX checkpoint, drawn when loaded: N(0, 0.02) (+1 for layer-norm
// weights) directly on the target device in the target dtype, seeded by name.
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
  bool Has(const std::string& n) const override { return specs_.count(n) != 0; }
  std::vector<std::string> Names() const override {
    std::vector<std::string> out;
    for (const auto& [n, s] : specs_) out.push_back(n);
    return out;
  }
  at::Tensor Load(const std::string& n, at::Device d, at::ScalarType s) override {
    const Spec& spec = specs_.at(n);
    at::manual_seed(std::hash<std::string>{}(n) % (uint64_t{1} << 31));
    return at::randn(spec.shape, at::TensorOptions().device(d).dtype(s)).mul_(0.02).add_(spec.mean);
  }
  int64_t StoredBytes() const override { return 0; }

 private:
  struct Spec {
    std::vector<int64_t> shape;
    double mean;
  };
  void add(const std::string& n, std::vector<int64_t> shape, double mean = 0.0) {
    specs_[n] = Spec{std::move(shape), mean};
  }
  std::map<std::string, Spec> specs_;
};

std::optional<ModelConfig> ShapeConfig(const std::string& name) {
  ModelConfig c;
  c.vocab_size = 50304;
  c.max_position_embeddings = 2048;
  c.rotary_pct = 0.25;
  c.use_parallel_residual = true;
  if (name == "pythia-70m") {
    c.hidden_size = 512;
    c.num_layers = 6;
    c.num_heads = 8;
    c.intermediate_size = 2048;
  } else if (name == "pythia-2.8b") {
    c.hidden_size = 2560;
    c.num_layers = 32;
    c.num_heads = 32;
    c.intermediate_size = 10240;
  } else {
    return std::nullopt;
  }
  return c;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// GB/s; `bytes_counted` per repetition and how it was measured go to the report.
struct Bandwidth {
  double gbs = 0;
  double cpu_gbs = 0;  // CPU: bytes per second of the process's CPU time (shared machines)
  std::string method;
  std::vector<double> samples;
};

Bandwidth MeasureBandwidth(at::Device device, int reps) {
  Bandwidth b;
  if (device.is_cuda()) {
    const int64_t n = int64_t{1} << 30;  // 2 GiB of fp16 each way
    at::Tensor src = at::ones({n}, at::TensorOptions().device(device).dtype(at::kHalf));
    at::Tensor dst = at::empty_like(src);
    dst.copy_(src);
    auto timer = MakeDeviceStepTimer(device);
    for (int i = 0; i < reps; ++i) {
      timer->Start();
      dst.copy_(src);
      const double ms = timer->Stop();
      b.samples.push_back(2.0 * static_cast<double>(src.nbytes()) / (ms * 1e-3) / 1e9);
    }
    b.method = "device-to-device copy of 2 GiB, read + written bytes, CUDA events";
  } else {
    at::Tensor big = at::ones({128 * 1024 * 1024}, at::TensorOptions().device(device));
    big.sum().item<float>();  // page in
    std::vector<double> cpu;
    for (int i = 0; i < reps; ++i) {
      timespec c0{}, c1{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
      const auto t0 = Clock::now();
      big.sum().item<float>();
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
      b.samples.push_back(static_cast<double>(big.nbytes()) / s / 1e9);
      const double cs = static_cast<double>(c1.tv_sec - c0.tv_sec) +
                        static_cast<double>(c1.tv_nsec - c0.tv_nsec) * 1e-9;
      cpu.push_back(static_cast<double>(big.nbytes()) / cs / 1e9);
    }
    b.cpu_gbs = Median(cpu);
    b.method = "at::sum over 512 MiB fp32 (read bytes), bench thread count";
  }
  b.gbs = Median(b.samples);
  return b;
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

const char* kUsage =
    "usage: bench_decode [--shape pythia-70m|pythia-2.8b] [--device cpu|cuda] [--threads N]\n"
    "                    [--timed N] [--dtypes fp32,bf16,fp16] [--quants none,int8wo,...]\n"
    "                    [--windows 60,1020,full] [--compile eager,cuda_graph] [--sinks N]\n"
    "                    [--full-tokens N] [--bandwidth-reps N] [--quantize-head 0|1]\n"
    "                    [--model HF_DIR] [--fused-cpu-step 1|0] [--out FILE] [--json]\n"
    "--fused-cpu-step 0 runs fp32 CPU steps on the tensor path (ATen per layer), for a\n"
    "before/after of the fused step in one run.\n"
    "--model reads config and weights from a Hugging Face folder instead (--shape ignored).\n"
    "A quant NAME+head (e.g. int8wo+head) quantizes the output layer too, for that case only.\n"
    "--out writes the JSON report to FILE; --json prints it instead of the table.\n"
    "--tokens N is --timed N.\n"
    "Windowed cases time `timed` steps after the cache is full; full-cache cases time the last\n"
    "`timed` of `full-tokens` steps. Defaults: CPU pythia-70m, 1 thread, fp32 + bf16, none +\n"
    "int8wo, windows 60 (+4 sinks) and full (128 tokens), eager, 119 timed steps; CUDA\n"
    "pythia-2.8b, fp16 + bf16, every quant, window 1020 (+4 sinks), eager + cuda_graph, 256\n"
    "timed steps, full = 2048 tokens.\n";

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  bool json_stdout = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {  // the JSON report on stdout instead of the table
      json_stdout = true;
      continue;
    }
    if (a == "--tokens") a = "--timed";  // the name tools/gpu/run.sh uses
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
    args[a.substr(2)] = argv[++i];
  }
  static const std::set<std::string> kKnown = {"shape", "device", "threads", "timed", "dtypes",
                                              "quants", "windows", "compile", "sinks",
                                              "full-tokens", "bandwidth-reps", "out",
                                              "quantize-head", "model", "fused-cpu-step"};
  for (const auto& [k, v] : args)
    if (!kKnown.count(k)) {
      std::fprintf(stderr, "bench_decode: unknown option --%s\n%s", k.c_str(), kUsage);
      return 2;
    }
  auto arg = [&](const std::string& k, const std::string& def) {
    auto it = args.find(k);
    return it == args.end() ? def : it->second;
  };
  std::string err;
  auto device_opt = ParseDevice(arg("device", "cpu"), &err);
  if (!device_opt || !DeviceUnavailableReason(*device_opt).empty()) {
    std::fprintf(stderr, "bench_decode: %s%s\n", err.c_str(),
                 device_opt ? DeviceUnavailableReason(*device_opt).c_str() : "");
    return 2;
  }
  const at::Device device = *device_opt;
  const bool cuda = device.is_cuda();
  const std::string model_dir = arg("model", "");
  const std::string shape =
      model_dir.empty() ? arg("shape", cuda ? "pythia-2.8b" : "pythia-70m") : model_dir;
  std::optional<ModelFiles> files;
  if (!model_dir.empty() && !(files = LocateModel(model_dir, &err))) {
    std::fprintf(stderr, "bench_decode: %s\n", err.c_str());
    return 2;
  }
  const auto config_opt =
      files ? ReadModelConfig(files->config_path, &err) : ShapeConfig(shape);
  if (!config_opt) {
    std::fprintf(stderr, "bench_decode: %s\n%s",
                 files ? err.c_str() : ("unknown shape " + shape).c_str(), kUsage);
    return 2;
  }
  const ModelConfig config = *config_opt;
  const int threads = std::stoi(arg("threads", "1"));
  at::set_num_threads(threads);
  const int64_t timed = std::stoll(arg("timed", cuda ? "256" : "119"));
  const int64_t full_tokens = std::stoll(arg("full-tokens", cuda ? "2048" : "128"));
  const int64_t n_sink = std::stoll(arg("sinks", "4"));
  const auto dtypes = Split(arg("dtypes", cuda ? "fp16,bf16" : "fp32,bf16"));
  const auto quants =
      Split(arg("quants", cuda ? "none,int8wo,int8wo-dequant,int8da,int4wo-g128" : "none,int8wo"));
  const auto windows = Split(arg("windows", cuda ? "1020" : "60,full"));
  const auto compiles = Split(arg("compile", cuda ? "eager,cuda_graph" : "eager"));
  const int bw_reps = std::stoi(arg("bandwidth-reps", cuda ? "20" : "9"));
  const bool quantize_head = arg("quantize-head", "0") == "1";
  const bool fused_cpu_step = arg("fused-cpu-step", "1") == "1";

  const Bandwidth bw = MeasureBandwidth(device, bw_reps);
  std::unique_ptr<WeightSource> source =
      files ? OpenWeights(*files) : std::make_unique<RandomWeights>(config);
  WeightSource& weights = *source;
  nlohmann::json rows = nlohmann::json::array();
  for (const std::string& dtype_name : dtypes) {
    const std::map<std::string, at::ScalarType> kDtypes = {
        {"fp32", at::kFloat}, {"bf16", at::kBFloat16}, {"fp16", at::kHalf}};
    if (!kDtypes.count(dtype_name)) {
      std::fprintf(stderr, "bench_decode: unknown dtype %s\n", dtype_name.c_str());
      return 2;
    }
    const at::ScalarType dtype = kDtypes.at(dtype_name);
    for (const std::string& quant_arg : quants) {
      // NAME+head: this case quantizes the output layer too (as --quantize-head 1 does for all).
      const bool plus_head = quant_arg.size() > 5 && quant_arg.substr(quant_arg.size() - 5) == "+head";
      const std::string quant = plus_head ? quant_arg.substr(0, quant_arg.size() - 5) : quant_arg;
      auto spec = ParseQuant(quant, &err);
      if (!spec) {
        std::fprintf(stderr, "bench_decode: %s\n", err.c_str());
        return 2;
      }
      const bool head = (quantize_head || plus_head) && spec->method != QuantMethod::kNone;
      nlohmann::json base = {{"dtype", dtype_name}, {"quant", quant}, {"quantize_head", head}};
      const std::string why =
          GptNeox::QuantizationUnsupportedReason(config, device, dtype, *spec, "all", head);
      if (!why.empty()) {
        base["skipped"] = why;
        rows.push_back(base);
        continue;
      }
      auto model = GptNeox::Load(config, weights, device, dtype);
      model->Quantize(*spec, "all", head);
      model->set_fused_cpu_step(fused_cpu_step);
      const double elem = c10::elementSize(dtype);
      // Weights in their stored form minus the embedding table (one row of it is read).
      const double weight_bytes = static_cast<double>(model->WeightBytes()) -
                                  static_cast<double>(config.vocab_size - 1) *
                                      static_cast<double>(config.hidden_size) * elem;
      for (const std::string& window : windows) {
        for (const std::string& compile : compiles) {
          nlohmann::json row = base;
          row["window"] = window;
          row["sinks"] = n_sink;
          row["compile"] = compile;
          const bool graph = compile == "cuda_graph";
          if (graph && !CudaGraphUnsupportedReason(device).empty()) {
            row["skipped"] = CudaGraphUnsupportedReason(device);
            rows.push_back(row);
            continue;
          }
          DecodeOptions opt;
          CachePolicy policy;
          policy.n_sink = n_sink;
          int64_t attended = 0;  // K/V slots the median timed step reads
          if (window == "full") {
            // Full cache: the timed steps are the last `timed` of `full_tokens`.
            opt.tokens = std::max<int64_t>(full_tokens, timed + 2);
            attended = graph ? opt.tokens : opt.tokens - timed / 2;
          } else {
            policy.window = std::stoll(window);
            // Warm-up fills the cache, so every timed step attends all n_sink + window + 1.
            opt.tokens = n_sink + *policy.window + 1 + timed + 1;
            attended = n_sink + *policy.window + 1;
          }
          opt.warmup = opt.tokens - 1 - timed;
          opt.policy = policy;
          opt.cuda_graph = graph;
          std::vector<int32_t> ids;
          for (int64_t i = 0; i < opt.tokens; ++i)
            ids.push_back(static_cast<int32_t>((i * 7919) % config.vocab_size));
          DecodeRun run = RunDecodeLoop(*model, ids, opt);
          auto m = DecodeMetrics(run.samples);
          const double kv = 2.0 * static_cast<double>(config.num_layers * attended *
                                                      config.hidden_size) *
                            elem;
          const double bytes = weight_bytes + kv;
          const double floor_ms = bytes / (bw.gbs * 1e9) * 1e3;
          row["tokens"] = opt.tokens;
          row["timed_steps"] = timed;
          row["tpot_ms_median"] = m["tpot_ms_median"];
          row["tpot_ms_p10"] = m["tpot_ms_p10"];
          row["tpot_ms_p90"] = m["tpot_ms_p90"];
          if (!run.process_cpu_ms.empty() && bw.cpu_gbs > 0) {
            // The same ratio in the process's CPU time (step and bandwidth alike), which a
            // shared machine's descheduling does not inflate (one thread: all threads' time).
            row["cpu_ms_median"] = Median(run.process_cpu_ms);
            row["floor_cpu_ms"] = bytes / (bw.cpu_gbs * 1e9) * 1e3;
            row["cpu_over_floor_cpu"] = Median(run.process_cpu_ms) / (bytes / (bw.cpu_gbs * 1e9) * 1e3);
          }
          if (!run.device_ms.empty()) {
            std::vector<double> d = run.device_ms;
            row["tpot_device_ms_median"] = Median(d);
          }
          row["weight_bytes"] = weight_bytes;
          row["kv_bytes"] = kv;
          row["bytes_per_token"] = bytes;
          row["floor_ms"] = floor_ms;
          row["tpot_over_floor"] = m["tpot_ms_median"] / floor_ms;
          row["non_finite"] = run.non_finite;
          row["fused_cpu_step"] = model->UsesFusedCpuStep(model->MakeCache(policy, opt.tokens, graph));
          rows.push_back(row);
          std::fprintf(stderr, "%s %s %s %s: %.3f ms (floor %.3f)\n", dtype_name.c_str(),
                       (quant + (head ? "+head" : "")).c_str(), window.c_str(), compile.c_str(), m["tpot_ms_median"],
                       floor_ms);
        }
      }
    }
  }
  nlohmann::json report = {{"date", UtcNow()},
                           {"machine", DeviceName(device)},
                           {"device", cuda ? "cuda" : "cpu"},
                           {"load_average", LoadAverage()},
                           {"threads", threads},
                           {"libtorch", LibtorchVersion()},
                           {"cuda_runtime", CudaRuntimeVersion()},
                           {"worker_build", WorkerBuildId()},
                           {"shape", files ? shape : shape + " (random weights)"},
                           {"cpu_gemv_isa", IsaLevelName(ChosenIsaLevel())},
                           {"bandwidth_gbs", bw.gbs},
                           {"bandwidth_method", bw.method},
                           {"bandwidth_cpu_time_gbs", bw.cpu_gbs},
                           {"bandwidth_samples_gbs", bw.samples},
                           {"cases", rows}};
  if (args.count("out")) {
    std::ofstream out(args["out"]);
    out << report.dump(1) << "\n";
    if (!out) {
      std::fprintf(stderr, "bench_decode: cannot write %s\n", args["out"].c_str());
      return 1;
    }
  }
  if (json_stdout) {
    std::printf("%s\n", report.dump(1).c_str());
    return 0;
  }
  std::printf("%s, %s, threads %d, CPU GEMV %s, load %s, bandwidth %.2f GB/s (%s)\n",
              report["machine"].get<std::string>().c_str(), shape.c_str(), threads,
              report["cpu_gemv_isa"].get<std::string>().c_str(),
              report["load_average"].get<std::string>().c_str(), bw.gbs, bw.method.c_str());
  std::printf("%-5s %-16s %-6s %-10s %10s %10s %10s %10s %9s %9s %9s\n", "dtype", "quant",
              "window", "compile", "tpot_med", "tpot_p10", "tpot_p90", "MB/token", "floor_ms",
              "tpot/fl", "cpu_med");
  for (const auto& r : rows) {
    const std::string q =
        r["quant"].get<std::string>() + (r.value("quantize_head", false) ? "+head" : "");
    if (r.contains("skipped")) {
      std::printf("%-5s %-16s skipped: %s\n", r["dtype"].get<std::string>().c_str(), q.c_str(),
                  r["skipped"].get<std::string>().c_str());
      continue;
    }
    std::printf("%-5s %-16s %-6s %-10s %10.3f %10.3f %10.3f %10.1f %9.3f %9.2f %9.3f\n",
                r["dtype"].get<std::string>().c_str(), q.c_str(),
                r["window"].get<std::string>().c_str(), r["compile"].get<std::string>().c_str(),
                r["tpot_ms_median"].get<double>(), r["tpot_ms_p10"].get<double>(),
                r["tpot_ms_p90"].get<double>(), r["bytes_per_token"].get<double>() / 1e6,
                r["floor_ms"].get<double>(), r["tpot_over_floor"].get<double>(),
                r.value("cpu_ms_median", 0.0));
  }
  return 0;
}
