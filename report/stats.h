// Statistics for the report: quantiles of latency samples and percentile-bootstrap
// confidence intervals of a median and of a ratio of two medians. Deterministic: the
// same input and seed give the same bits on every platform, because the random index
// draw is written here (std::uniform_int_distribution differs across standard
// libraries). Pure functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace orch::report {

// Quantile with linear interpolation between order statistics (Hyndman-Fan type 7, the
// default of R and NumPy). `q` in [0, 1]; `values` must not be empty.
double Quantile(std::vector<double> values, double q);
double Median(std::vector<double> values);

struct Interval {
  double lo = 0;
  double hi = 0;
  bool Contains(double x) const { return lo <= x && x <= hi; }
};

struct BootstrapOptions {
  int resamples = 2000;
  double confidence = 0.95;
  uint64_t seed = 0x6f72636852505400;  // fixed: the report must be reproducible
};

// A uniform random index source over std::mt19937_64 whose output is fully specified
// (mt19937_64's sequence is fixed by the standard; the index draw is ours).
class IndexDraw {
 public:
  explicit IndexDraw(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, n), unbiased: rejects the low (2^64 mod n) raw values. n > 0.
  uint64_t Next(uint64_t n);

 private:
  std::mt19937_64 engine_;
};

// Derives a per-comparison seed from the report seed and labels (trial keys), so a
// cell's interval does not depend on which other cells the sweep holds or their order.
uint64_t DeriveSeed(uint64_t seed, std::string_view a, std::string_view b = {});

// The medians of `opts.resamples` bootstrap resamples of `samples` (non-empty), in draw
// order. Kept per cell so ratio CIs against a baseline cost O(resamples), not a redraw.
std::vector<double> BootstrapMedians(const std::vector<double>& samples,
                                     const BootstrapOptions& opts);

// The central `confidence` interval of a bootstrap distribution (percentile method).
Interval PercentileInterval(std::vector<double> statistics, double confidence);

// Percentile CI of the ratio of medians from two independent bootstrap distributions of
// equal length, paired by draw index: quantiles of numerator[i] / denominator[i].
Interval RatioInterval(const std::vector<double>& numerator_medians,
                       const std::vector<double>& denominator_medians, double confidence);

// Two-level bootstrap (Davison & Hinkley 1997, sec. 3.8): each resample draws
// `replicates.size()` replicates with replacement, then, within each drawn replicate, as
// many tokens as it holds with replacement; the statistic is the median of the pooled
// draw. Between-replicate spread (machine state, drift) thus enters the interval, which
// a token-level bootstrap of pooled samples misses. Every replicate must be non-empty.
// With one replicate the draws are exactly those of BootstrapMedians (no replicate draw).
std::vector<double> TwoLevelBootstrapMedians(const std::vector<std::vector<double>>& replicates,
                                             const BootstrapOptions& opts);

// Percentile bootstrap CI of the median; `samples` must not be empty.
Interval BootstrapMedianCi(const std::vector<double>& samples, const BootstrapOptions& opts);

// Percentile bootstrap CI of median(numerator) / median(denominator), resampling the two
// sets independently (the numerator with `opts.seed`, the denominator with seed + 1).
// Both non-empty; the denominator's medians must be positive.
Interval BootstrapRatioCi(const std::vector<double>& numerator,
                          const std::vector<double>& denominator, const BootstrapOptions& opts);

// What the report states about one cell's per-token latencies (replicates pooled for the
// point estimates; the CI from the two-level bootstrap over replicates).
struct LatencySummary {
  size_t count = 0;
  size_t replicates = 0;  // non-empty replicates behind the samples
  double median = 0;
  double p90 = 0;
  double p99 = 0;
  Interval median_ci;
  std::vector<double> bootstrap_medians;  // behind median_ci; reused for ratio CIs
};

// One replicate.
LatencySummary SummarizeLatency(const std::vector<double>& samples, const BootstrapOptions& opts);
// Several replicates (empty ones are ignored); the CI comes from TwoLevelBootstrapMedians.
LatencySummary SummarizeReplicates(const std::vector<std::vector<double>>& replicates,
                                   const BootstrapOptions& opts);

}  // namespace orch::report
