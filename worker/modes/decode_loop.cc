#include "worker/modes/decode_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>

#include "worker/backend/cuda_graph_step.h"
#include "worker/backend/device.h"

namespace orch::worker {
namespace {

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double ProcessCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

}  // namespace

DecodeRun RunDecodeLoop(GptNeox& model, const std::vector<int32_t>& ids, const DecodeOptions& opt) {
  DecodeRun run;
  const at::Device device = model.device();
  const int64_t steps = opt.tokens - 1;
  StreamingCache cache = model.MakeCache(opt.policy, opt.tokens, /*static_shapes=*/opt.cuda_graph);
  auto long_opts = at::TensorOptions().dtype(at::kLong);
  at::Tensor all_ids = at::empty({opt.tokens}, long_opts);
  for (int64_t i = 0; i < opt.tokens; ++i)
    all_ids.data_ptr<int64_t>()[i] = ids[static_cast<size_t>(i)];
  at::Tensor ids_dev = all_ids.to(device);
  std::unique_ptr<CudaGraphStep> graph;
  if (opt.cuda_graph) graph = CaptureDecodeStep(model, cache);
  std::unique_ptr<DeviceStepTimer> device_timer = MakeDeviceStepTimer(device);

  const auto loop_start = Clock::now();
  for (int64_t r = 0; r < opt.repeats && !run.non_finite; ++r) {
    RepeatSamples samples;
    samples.repeat = r;
    samples.warmup = std::min(opt.warmup, steps);
    cache.Reset();
    for (int64_t i = 0; i < steps; ++i) {
      at::Tensor token = ids_dev.narrow(0, i, 1);
      ForwardObserver* obs = i >= opt.warmup ? opt.observer : nullptr;
      SynchronizeDevice(device);
      const double cpu0 = ProcessCpuMs();
      const auto t0 = Clock::now();
      if (device_timer) device_timer->Start();
      cache.BeginStep();
      at::Tensor logits = graph ? graph->Run(token) : model.DecodeStep(token, cache, obs);
      cache.EndStep();
      if (device_timer) {
        double ms = device_timer->Stop();
        if (i >= opt.warmup) run.device_ms.push_back(ms);  // warm-up excluded, as on the host
      }
      SynchronizeDevice(device);
      samples.latency_ms.push_back(MsSince(t0));
      if (i >= opt.warmup) run.process_cpu_ms.push_back(ProcessCpuMs() - cpu0);

      // NLL of token i+1 in fp32, and the finiteness check, in one device->host copy.
      at::Tensor lf = logits.to(at::kFloat).view({-1});
      at::Tensor nll =
          at::logsumexp(lf, 0) - lf.index_select(0, ids_dev.narrow(0, i + 1, 1)).squeeze(0);
      at::Tensor finite = at::isfinite(lf).all().to(at::kFloat);
      at::Tensor host = at::stack({nll, finite}).cpu();
      const float* h = host.data_ptr<float>();
      samples.nll.push_back(h[0]);
      if (opt.progress) opt.progress(i + 1, steps);
      if (h[1] == 0.f) {
        run.non_finite = true;
        run.nan_token = i;
        run.nan_repeat = r;
        break;
      }
    }
    run.samples.push_back(std::move(samples));
  }
  run.decode_total_s = MsSince(loop_start) / 1000.0;
  return run;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::map<std::string, double> DecodeMetrics(const std::vector<RepeatSamples>& samples) {
  std::map<std::string, double> m;
  if (samples.empty()) return m;
  const auto& nll = samples.front().nll;
  double sum = 0;
  for (double v : nll) sum += v;
  const double mean = nll.empty() ? std::numeric_limits<double>::quiet_NaN()
                                  : sum / static_cast<double>(nll.size());
  m["nll_mean"] = mean;
  m["ppl"] = std::exp(mean);
  m["tokens_evaluated"] = static_cast<double>(nll.size());
  std::vector<double> lat;
  for (const auto& s : samples)
    for (size_t i = static_cast<size_t>(s.warmup); i < s.latency_ms.size(); ++i)
      lat.push_back(s.latency_ms[i]);
  double lsum = 0;
  for (double v : lat) lsum += v;
  m["tpot_ms_median"] = Percentile(lat, 0.5);
  m["tpot_ms_mean"] = lat.empty() ? std::numeric_limits<double>::quiet_NaN()
                                  : lsum / static_cast<double>(lat.size());
  m["tpot_ms_p10"] = Percentile(lat, 0.10);
  m["tpot_ms_p90"] = Percentile(lat, 0.90);
  m["tpot_ms_p99"] = Percentile(lat, 0.99);
  return m;
}

}  // namespace orch::worker
