// Statistics for the report: quantiles of latency samples; with several replicates
// (fresh worker processes), Student-t intervals on the replicates' log medians for a
// cell's median and for the ratio of two cells' medians, and the power of that
// comparison (issue 22: chosen by the coverage tests/report/coverage_test.cc measures);
// with one replicate, exact distribution-free order-statistic (binomial) intervals over
// its tokens, O(n) per cell (issue 18: they replaced a 2,000-resample token bootstrap
// that was most of the report's run time). Deterministic, no random draws. Pure
// functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
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

struct IntervalOptions {
  double confidence = 0.95;
};

// --- One replicate: exact distribution-free intervals from order statistics -----------

// P(B <= k) for B ~ Binomial(n, 1/2): the probabilities summed by their recurrence from
// 12 standard deviations below the mean (the mass left out is below 1e-31), the first
// one from lgamma, so O(sqrt(n)) per call; relative accuracy ~1e-12 up to n = 10^4 and
// ~1e-8 at n = 10^6 (lgamma's rounding), which moves MedianCiRank only for a
// confidence within that of an exact coverage.
double BinomialHalfCdf(uint64_t n, uint64_t k);

// The rank l (1-based) of the order-statistic interval [x_(l), x_(n+1-l)] of the median
// of n samples: the largest l whose coverage 1 - 2 P(B <= l - 1), B ~ Binomial(n, 1/2),
// is at least `confidence` (Conover, Practical Nonparametric Statistics, 3.2). The
// coverage holds for any continuous distribution of independent samples. 0 when even
// [x_(1), x_(n)] covers less (n < 6 at 95%).
uint64_t MedianCiRank(uint64_t n, double confidence);

// That interval over `sorted` (ascending, non-empty). When no rank reaches the
// confidence the interval is unbounded, {0, inf} (latencies are positive).
Interval OrderStatisticMedianCi(const std::vector<double>& sorted, double confidence);

// The ratio of the medians of two independent samples from their order-statistic
// intervals, each made at confidence sqrt(`confidence`): both hold with probability at
// least `confidence`, and then the ratio lies in [lo_n / hi_d, hi_n / lo_d]. Exact and
// conservative (its coverage is at least `confidence`); {0, inf} when a part is
// unbounded or the denominator's lower end is not positive.
Interval OrderStatisticRatioCi(const Interval& numerator_part, const Interval& denominator_part);

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
// replicate, the order-statistic interval over its tokens: within-run spread only).
struct LatencySummary {
  size_t count = 0;
  size_t replicates = 0;  // non-empty replicates behind the samples
  double median = 0;
  double p90 = 0;
  double p99 = 0;
  Interval median_ci;
  std::vector<double> replicate_medians;  // one per non-empty replicate, in order
  LogMedians log_medians;                 // of replicate_medians
  double confidence = 0;                  // of median_ci (and of ratio_part, squared)
  // One replicate only: the order-statistic interval of its median at confidence
  // sqrt(confidence), the part OrderStatisticRatioCi builds a ratio interval from.
  std::optional<Interval> ratio_part;
};

// One replicate.
LatencySummary SummarizeLatency(const std::vector<double>& samples, const IntervalOptions& opts);
// Several replicates (empty ones are ignored).
LatencySummary SummarizeReplicates(const std::vector<std::vector<double>>& replicates,
                                   const IntervalOptions& opts);

}  // namespace orch::report
