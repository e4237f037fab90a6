#include "worker/app/trial_runner.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <sched.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <thread>

#include "base/token_ids.h"
#include "worker/app/build_id.h"
#include "worker/backend/cuda_graph_step.h"
#include "worker/modes/decode_loop.h"
#include "worker/backend/device.h"
#include "worker/model/gpt_neox.h"
#include "worker/model/model_config.h"
#include "worker/weights/model_files.h"
#include "worker/modes/profile.h"
#include "worker/quant/quantized_linear.h"
#include "worker/modes/sanity.h"
#include "worker/weights/weight_source.h"

namespace orch::worker {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

TrialResult Error(std::string reason) {
  TrialResult r;
  r.outcome = OutcomeClass::kError;
  r.reason = std::move(reason);
  return r;
}

std::optional<at::ScalarType> ParseDtype(const std::string& s) {
  if (s == "fp32") return at::kFloat;
  if (s == "fp16") return at::kHalf;
  if (s == "bf16") return at::kBFloat16;
  return std::nullopt;
}

// Runs the ops of a forward in `dtype` on `device` on tiny tensors: a kernel the build lacks
// (e.g. some half-precision CPU kernels in older LibTorch) shows up here as a reason.
std::string DtypeUnsupportedReason(at::Device device, at::ScalarType dtype,
                                   const std::string& name) {
  try {
    auto o = at::TensorOptions().dtype(dtype).device(device);
    at::Tensor x = at::randn({2, 16}, o), w = at::randn({16, 16}, o), b = at::randn({16}, o);
    at::Tensor y = at::gelu(at::linear(at::layer_norm(x, {16}, b, b, 1e-5), w, b));
    y = at::matmul(at::softmax(at::matmul(y, y.t()).to(at::kFloat), -1).to(dtype), y);
    at::Tensor e = w.index_select(0, at::zeros({1}, o.dtype(at::kLong)));
    (y.sum() + e.sum()).item<float>();
  } catch (const c10::Error& e) {
    return "dtype " + name + " on " + device.str() +
           " lacks a kernel: " + e.what_without_backtrace();
  }
  return "";
}

void FillEnvironment(TrialResult& r, at::Device device) {
  r.environment["libtorch"] = LibtorchVersion();
  r.environment["cuda_runtime"] = CudaRuntimeVersion();
  r.environment["device_name"] = DeviceName(device);
  r.environment["threads"] = at::get_num_threads();
  r.environment["worker_build"] = WorkerBuildId();
}

void FillMemory(TrialResult& r, at::Device device) {
  MemoryStats m = PeakMemory(device);
  if (m.peak_rss_bytes >= 0) r.metrics["peak_rss_bytes"] = static_cast<double>(m.peak_rss_bytes);
  if (m.peak_alloc_bytes >= 0)
    r.metrics["peak_alloc_bytes"] = static_cast<double>(m.peak_alloc_bytes);
  if (m.peak_reserved_bytes >= 0)
    r.metrics["peak_reserved_bytes"] = static_cast<double>(m.peak_reserved_bytes);
}

// What validation settled before any weight is read: the parsed settings and the inputs.
struct PreparedTrial {
  at::ScalarType dtype = at::kFloat;
  std::optional<QuantSpec> quant;
  std::optional<ModelFiles> files;
  std::optional<ModelConfig> config;
  std::vector<int32_t> ids;
};

// --- validation: everything that can be answered before reading weights ---------------
// The configuration alone: an early result (error, blocked) or nullopt with `p` filled.
std::optional<TrialResult> CheckConfig(const TrialConfig& c, at::Device device,
                                       PreparedTrial* p) {
  auto dtype = ParseDtype(c.dtype);
  if (!dtype) return Error("config.dtype '" + c.dtype + "' is not one of fp32, fp16, bf16");
  p->dtype = *dtype;
  if (c.mode != "eval" && c.mode != "sanity" && c.mode != "profile")
    return Error("config.mode '" + c.mode + "' is not one of eval, sanity, profile");
  if (c.compile != "eager" && c.compile != "cuda_graph")
    return Error("config.compile '" + c.compile + "' is not one of eager, cuda_graph");
  if (c.scope != "all" && c.scope != "mlp" && c.scope != "attention")
    return Error("config.scope '" + c.scope + "' is not one of all, mlp, attention");
  if (c.tokens < 2)
    return Error("config.tokens must be at least 2 (one step predicts the next token)");
  std::string why;
  p->quant = ParseQuant(c.quant, &why);
  if (!p->quant) return Error("config.quant: " + why);
  if (std::string r = DeviceUnavailableReason(device); !r.empty()) return TrialResult::Blocked(r);
  if (c.compile == "cuda_graph") {
    if (std::string r = CudaGraphUnsupportedReason(device); !r.empty())
      return TrialResult::Blocked(r);
    if (c.mode != "eval")
      return TrialResult::Blocked("compile=cuda_graph replays whole steps; mode " + c.mode +
                                  " needs eager module-by-module execution");
  }
  if (std::string r = DtypeUnsupportedReason(device, *dtype, c.dtype); !r.empty())
    return TrialResult::Blocked(r);
  return std::nullopt;
}

// The model's files and config and the token ids, checked against the configuration: an
// early result or nullopt with `p` filled. A full-window run past the model's trained
// positions is a warning (on `result` and as an event), not an error.
std::optional<TrialResult> ReadInputs(const Trial& trial, EventSink& events, PreparedTrial* p,
                                      TrialResult& result) {
  const TrialConfig& c = trial.config;
  std::string why;
  p->files = LocateModel(trial.model, &why);
  if (!p->files) return Error(why);
  p->config = ReadModelConfig(p->files->config_path, &why);
  if (!p->config) return Error(why);
  if (trial.token_ids.empty()) return Error("trial.json inputs.token_ids is absent");
  StatusOr<std::vector<int32_t>> ids = ReadTokenIdsFile(trial.token_ids);
  if (!ids.ok()) return Error(ids.status().message());
  p->ids = std::move(ids).value();
  if (static_cast<int64_t>(p->ids.size()) < c.tokens)
    return Error("token ids " + trial.token_ids + " hold " + std::to_string(p->ids.size()) +
                 " ids; config.tokens is " + std::to_string(c.tokens));
  for (int64_t i = 0; i < c.tokens; ++i) {
    const int32_t id = p->ids[static_cast<size_t>(i)];
    if (id < 0 || id >= p->config->vocab_size)
      return Error("token id " + std::to_string(id) + " at index " + std::to_string(i) +
                   " is outside the model's vocabulary (" +
                   std::to_string(p->config->vocab_size) + ")");
  }
  if (!c.window && c.tokens > p->config->max_position_embeddings && c.mode != "sanity") {
    std::string w =
        "window=full with tokens=" + std::to_string(c.tokens) +
        " > max_position_embeddings=" + std::to_string(p->config->max_position_embeddings) +
        ": the no-streaming baseline runs at positions it was not trained on";
    result.warnings.push_back(w);
    events.Warning(w);
  }
  return std::nullopt;
}

// Test hook (docs/worker.md, "GPU check"): ORCH_WORKER_TEST_FAULT=device_assert makes a
// CUDA trial launch a kernel that faults (an out-of-range index_select: device-side
// assert), so tools/gpu/run.sh can show that a real kernel fault ends `cuda_error`.
void MaybeInjectDeviceFault(at::Device device) {
  if (const char* f = std::getenv("ORCH_WORKER_TEST_FAULT");
      f && std::string(f) == "device_assert" && device.is_cuda()) {
    at::Tensor src = at::zeros({4}, at::TensorOptions().device(device));
    at::Tensor idx =
        at::full({1}, int64_t{1} << 30, at::TensorOptions().dtype(at::kLong).device(device));
    (void)src.index_select(0, idx);
    SynchronizeDevice(device);
  }
}

// --- load, quantize ----------------------------------------------------------------------
// The model in its final form (rotary positions prepared, quantized), with load_s,
// prepare_s, quantize_s and weight_bytes in `result`.
std::unique_ptr<GptNeox> LoadModel(const TrialConfig& c, const PreparedTrial& p,
                                   at::Device device, EventSink& events, TrialResult& result) {
  at::manual_seed(static_cast<uint64_t>(c.seed));
  ResetPeakMemory(device);
  events.Phase("load_model");
  auto t0 = Clock::now();
  std::unique_ptr<GptNeox> model;
  {
    std::unique_ptr<WeightSource> weights = OpenWeights(*p.files);
    model = GptNeox::Load(*p.config, *weights, device, p.dtype);
  }
  SynchronizeDevice(device);
  result.metrics["load_s"] = SecondsSince(t0);
  MaybeInjectDeviceFault(device);

  events.Phase("prepare");
  t0 = Clock::now();
  const int64_t max_positions = c.window ? c.n_sink + *c.window + 1 : c.tokens;
  model->EnsureRotaryPositions(std::max(max_positions, c.tokens));
  SynchronizeDevice(device);
  result.metrics["prepare_s"] = SecondsSince(t0);

  events.Phase("quantize");
  t0 = Clock::now();
  model->Quantize(*p.quant, c.scope, c.quantize_head);
  SynchronizeDevice(device);
  result.metrics["quantize_s"] = SecondsSince(t0);
  result.metrics["weight_bytes"] = static_cast<double>(model->WeightBytes());
  // Peaks count from the model in its final form: loading holds the unquantized weights
  // for a moment, which would hide what a quantized variant saves (GPU allocator peaks;
  // a CPU process's peak RSS cannot be reset and keeps the load).
  ResetPeakMemory(device);
  return model;
}

// --- run the mode ------------------------------------------------------------------------
// mode=sanity: one forward over the first tokens (capped at the trained positions).
void RunSanityMode(const TrialConfig& c, const PreparedTrial& p, GptNeox& model,
                   at::Device device, EventSink& events, TrialResult& result) {
  events.Phase("sanity");
  const int64_t n =
      std::min<int64_t>(c.tokens, std::max<int64_t>(p.config->max_position_embeddings, 2));
  if (n < c.tokens) {
    std::string w =
        "sanity: forward capped at max_position_embeddings=" + std::to_string(n) + " tokens";
    result.warnings.push_back(w);
    events.Warning(w);
  }
  at::Tensor id_tensor = at::empty({n}, at::TensorOptions().dtype(at::kLong));
  for (int64_t i = 0; i < n; ++i) id_tensor.data_ptr<int64_t>()[i] = p.ids[static_cast<size_t>(i)];
  SanityReport s = RunSanity(model, id_tensor.to(device));
  result.metrics["tokens_evaluated"] = static_cast<double>(n - 1);
  result.metrics["sanity_logits_finite"] = s.logits_finite ? 1 : 0;
  result.metrics["sanity_loss_finite"] = s.loss_finite ? 1 : 0;
  result.metrics["nll_mean"] = s.loss;
  result.metrics["ppl"] = std::exp(s.loss);
  FillMemory(result, device);
  if (!s.first_nonfinite_module.empty()) result.details["nan_layer"] = s.first_nonfinite_module;
  if (!s.logits_finite || !s.loss_finite) {
    result.outcome = OutcomeClass::kNan;
    if (s.first_nonfinite_token >= 0) result.details["nan_token"] = s.first_nonfinite_token;
    result.reason =
        "non-finite " + std::string(!s.logits_finite ? "logits" : "loss") +
        (s.first_nonfinite_module.empty() ? "" : ", first at " + s.first_nonfinite_module);
  }
}

// mode=eval or profile: the decode loop (docs/worker.md), its samples and metrics, and
// for profile each section's share of a step.
void RunDecodeMode(const TrialConfig& c, const PreparedTrial& p, GptNeox& model,
                   at::Device device, EventSink& events, HeartbeatTicker& ticker,
                   TrialResult& result) {
  DecodeOptions opt;
  opt.tokens = c.tokens;
  opt.warmup = c.warmup;
  opt.repeats = c.repeats;
  opt.policy = CachePolicy{c.n_sink, c.window};
  opt.cuda_graph = c.compile == "cuda_graph";
  std::unique_ptr<SectionProfiler> profiler;
  if (c.mode == "profile") {
    profiler = std::make_unique<SectionProfiler>(device);
    opt.observer = profiler.get();
  }
  opt.progress = [&ticker](int64_t step, int64_t total) { ticker.set_progress(step, total); };
  events.Phase("decode");
  DecodeRun run = RunDecodeLoop(model, p.ids, opt);

  for (const auto& [k, v] : DecodeMetrics(run.samples)) result.metrics[k] = v;
  result.metrics["decode_total_s"] = run.decode_total_s;
  if (!run.device_ms.empty()) {
    std::vector<double> dev;
    for (size_t i = 0; i < run.device_ms.size(); ++i) dev.push_back(run.device_ms[i]);
    result.metrics["tpot_device_ms_median"] = Percentile(dev, 0.5);
  }
  if (profiler) {
    double step_ms = 0;
    std::vector<double> lat;
    for (const auto& s : run.samples)
      for (size_t i = static_cast<size_t>(s.warmup); i < s.latency_ms.size(); ++i) {
        step_ms += s.latency_ms[i];
        lat.push_back(s.latency_ms[i]);
      }
    for (const auto& [k, v] : profiler->Shares(step_ms)) result.metrics[k] = v;
    result.metrics["profile_step_ms"] = Percentile(lat, 0.5);
  }
  result.samples = std::move(run.samples);
  FillMemory(result, device);
  if (run.non_finite) {
    result.outcome = OutcomeClass::kNan;
    result.details["nan_token"] = run.nan_token;
    result.details["nan_repeat"] = run.nan_repeat;
    result.reason = "non-finite logits at decode step " + std::to_string(run.nan_token);
  }
}

// Validation, load and quantize, then the mode. Exceptions (LibTorch's OOM and CUDA
// errors among them) are the caller's: ResultFromException.
TrialResult RunTrialOrThrow(const Trial& trial, EventSink& events, HeartbeatTicker& ticker,
                            at::Device device) {
  const TrialConfig& c = trial.config;
  TrialResult result;
  FillEnvironment(result, device);
  PreparedTrial p;
  if (auto early = CheckConfig(c, device, &p)) return *early;
  if (auto early = ReadInputs(trial, events, &p, result)) return *early;
  if (std::string r = GptNeox::QuantizationUnsupportedReason(*p.config, device, p.dtype,
                                                             *p.quant, c.scope, c.quantize_head);
      !r.empty()) {
    TrialResult blocked = TrialResult::Blocked(r);
    blocked.environment = result.environment;
    return blocked;
  }
  std::unique_ptr<GptNeox> model = LoadModel(c, p, device, events, result);
  if (c.mode == "sanity") {
    RunSanityMode(c, p, *model, device, events, result);
  } else {
    RunDecodeMode(c, p, *model, device, events, ticker, result);
  }
  return result;
}

}  // namespace

int ConfigureThreads() {
  int n = 0;
  if (const char* v = std::getenv("ORCH_WORKER_THREADS"); v && *v) n = std::atoi(v);
  if (n <= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
  }
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  return n;
}

TrialResult ResultFromException(std::exception_ptr e) {
  TrialResult result;
  try {
    std::rethrow_exception(e);
  } catch (const c10::OutOfMemoryError& e) {
    result.outcome = OutcomeClass::kOom;
    result.reason = e.what_without_backtrace();
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    result.outcome = IsCudaErrorMessage(msg) ? OutcomeClass::kCudaError : OutcomeClass::kError;
    result.reason = msg;
  } catch (const std::exception& e) {
    result = Error(e.what());
  } catch (...) {
    result = Error("unknown exception");
  }
  if (auto nl = result.reason.find('\n'); nl != std::string::npos) result.reason.resize(nl);
  return result;
}

TrialResult RunTrial(const Trial& trial, EventSink& events) {
  std::string why;
  auto device = ParseDevice(trial.config.device, &why);
  TrialResult result;
  if (!device) {
    result = Error("config.device: " + why);
  } else {
    try {
      // Heartbeats from a thread for the whole trial: loading a large checkpoint or
      // quantizing it can take longer than the orchestrator's heartbeat_timeout.
      HeartbeatTicker ticker(&events);
      result = RunTrialOrThrow(trial, events, ticker, *device);
    } catch (...) {
      result = ResultFromException(std::current_exception());
    }
  }
  if (result.environment.empty()) {
    try {
      FillEnvironment(result, device.value_or(at::Device(at::kCPU)));
    } catch (...) {
      // After a sticky CUDA error the device cannot be asked anything; leave it out.
    }
  }
  // Results carry one-line reasons (protocol): keep the first line of long LibTorch messages.
  if (auto nl = result.reason.find('\n'); nl != std::string::npos) result.reason.resize(nl);
  if (result.outcome != OutcomeClass::kOk)
    events.Failure(std::string(OutcomeName(result.outcome)), result.reason);
  return result;
}

}  // namespace orch::worker
