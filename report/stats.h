// Statistics for the report: quantiles of latency samples; with several replicates
// (fresh worker processes), Student-t intervals on the replicates' log medians for a
// cell's median and for the ratio of two cells' medians, and the power of that
// comparison (issue 22: chosen by the coverage tests/report/coverage_test.cc measures);
// with one replicate, percentile-bootstrap intervals over its tokens. Deterministic: the
// same input and seed give the same bits on every platform, because the random index
// draw is written here (std::uniform_int_distribution differs across standard
// libraries). Pure functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
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

// Percentile bootstrap CI of the median; `samples` must not be empty.
Interval BootstrapMedianCi(const std::vector<double>& samples, const BootstrapOptions& opts);

// Percentile bootstrap CI of median(numerator) / median(denominator), resampling the two
// sets independently (the numerator with `opts.seed`, the denominator with seed + 1).
// Both non-empty; the denominator's medians must be positive.
Interval BootstrapRatioCi(const std::vector<double>& numerator,
                          const std::vector<double>& denominator, const BootstrapOptions& opts);

// --- Replicate-level intervals (Kalibera & Jones 2013: make the interval at the level
// where the variance arises; here, between worker processes) ---------------------------

double NormalCdf(double x);
// Student t with `df` >= 1 degrees of freedom: the CDF (exact closed form for integer
// df, Abramowitz & Stegun 26.7.3/4) and its inverse (bisection on the CDF, to 1e-12).
double StudentTCdf(double t, int df);
double StudentTQuantile(double p, int df);

// The log medians of a cell's replicates, summarized: their count, mean and sum of
// squared deviations (the pieces a pooled t interval needs).
struct LogMedians {
  int n = 0;
  double mean = 0;
  double ss = 0;
};
LogMedians SummarizeLogMedians(const std::vector<double>& replicate_medians);

// The ratio of two cells' medians (each the geometric mean of its replicates' medians)
// with the pooled-variance Student-t interval of the difference of mean log medians:
// df = n1 + n2 - 2, se = s_pooled * sqrt(1/n1 + 1/n2). Needs df >= 1 (at least three
// replicates over the two cells, one side may have one: it then borrows the other's
// spread). The measured coverage (coverage_test.cc) is 95% for 2..10 replicates where
// the two-level percentile bootstrap it replaced covered 85% at 3 (spread 0.10).
struct RatioEstimate {
  double ratio = 0;
  Interval ci;
  int df = 0;
  double log_sd = 0;  // pooled between-replicate sd of log medians (~ relative spread)
};
std::optional<RatioEstimate> ReplicateRatio(const LogMedians& numerator,
                                            const LogMedians& denominator, double confidence);

// The probability that the report's verdict (interval excludes 1 in the direction of the
// change and the ratio beyond 1 +/- min_effect) finds a true change of `log_change` (log
// of the true ratio) between two cells with n1 and n2 replicates whose log medians
// spread with sd `log_sd`, the interval having n1 + n2 - 2 df. Exact for normal log
// medians: an integral over the chi-square distribution of the pooled variance.
double DetectionPower(double log_change, double log_sd, int n1, int n2, double confidence,
                      double min_effect);
// The smallest relative slowdown (ratio - 1) found with probability `power`; infinity
// when no change up to 100x is (e.g. df < 1).
double DetectableChange(double log_sd, int n1, int n2, double confidence, double min_effect,
                        double power);

// What the report states about one cell's per-token latencies: p90/p99 over the pooled
// tokens; the median is the geometric mean of the replicates' medians (with one
// replicate, its median) and its CI the Student-t interval on their logs (with one
// replicate, the percentile bootstrap over its tokens: within-run spread only).
struct LatencySummary {
  size_t count = 0;
  size_t replicates = 0;  // non-empty replicates behind the samples
  double median = 0;
  double p90 = 0;
  double p99 = 0;
  Interval median_ci;
  std::vector<double> replicate_medians;  // one per non-empty replicate, in order
  LogMedians log_medians;                 // of replicate_medians
  std::vector<double> bootstrap_medians;  // one replicate only: behind median_ci and its ratios
};

// One replicate.
LatencySummary SummarizeLatency(const std::vector<double>& samples, const BootstrapOptions& opts);
// Several replicates (empty ones are ignored).
LatencySummary SummarizeReplicates(const std::vector<std::vector<double>>& replicates,
                                   const BootstrapOptions& opts);

}  // namespace orch::report
