// The eval decode loop: one token per step through a StreamingCache, the next token's NLL
// from that step's logits in fp32, and the step latency (host clock around a synchronized
// step; CUDA events as well on CUDA; the process's CPU time as well). Stops at the first non-finite logits. Metrics are
// derived separately (DecodeMetrics) so that they can be tested on synthetic samples.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "worker/model/forward_observer.h"
#include "worker/model/gpt_neox.h"
#include "worker/cache/streaming_cache.h"
#include "worker/app/trial_io.h"

namespace orch::worker {

struct DecodeOptions {
  int64_t tokens = 0;  // ids used; tokens - 1 steps each produce an NLL
  int64_t warmup = 0;  // leading steps of every repeat excluded from latency statistics
  int64_t repeats = 1;
  CachePolicy policy;
  bool cuda_graph = false;
  ForwardObserver* observer = nullptr;  // given steps >= warmup only (profile mode)
  std::function<void(int64_t step, int64_t total)> progress;
};

struct DecodeRun {
  std::vector<RepeatSamples> samples;
  std::vector<double> device_ms;  // CUDA-event step times (all repeats, warm-up excluded)
  // CPU time of the whole process over each step (CLOCK_PROCESS_CPUTIME_ID, all threads;
  // warm-up excluded): with one thread, the step's time less the time it was descheduled,
  // which a benchmark on a shared machine reports beside the wall clock.
  std::vector<double> process_cpu_ms;
  bool non_finite = false;
  int64_t nan_token = -1;  // the step whose logits were non-finite
  int64_t nan_repeat = -1;
  double decode_total_s = 0;  // wall time of all repeats' loops
};

// ids: at least options.tokens ids. Throws c10::Error on device failures.
DecodeRun RunDecodeLoop(GptNeox& model, const std::vector<int32_t>& ids,
                        const DecodeOptions& options);

// Linear-interpolation percentile (numpy's default) of an unsorted sample; NaN when empty.
double Percentile(std::vector<double> values, double q);

// ppl, nll_mean, tokens_evaluated (repeat 0) and tpot_ms_{median,mean,p10,p90,p99} over the
// non-warmup latencies of all repeats.
std::map<std::string, double> DecodeMetrics(const std::vector<RepeatSamples>& samples);

}  // namespace orch::worker
