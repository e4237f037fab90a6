#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace orch::report {
namespace {

// Median of a scratch buffer, reordering it (nth_element: O(n)).
double MedianInPlace(std::vector<double>& v) {
  const size_t n = v.size();
  const size_t mid = n / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double upper = v[mid];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + mid);
  return lower + (upper - lower) / 2;
}

// MedianInPlace's value, bit for bit, of an ascending vector.
double MedianOfSorted(const std::vector<double>& sorted) {
  const size_t mid = sorted.size() / 2;
  const double upper = sorted[mid];
  if (sorted.size() % 2 == 1) return upper;
  const double lower = sorted[mid - 1];
  return lower + (upper - lower) / 2;
}

// Type 7 quantile of an ascending vector (no copy).
double QuantileOfSorted(const std::vector<double>& values, double q) {
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  // a + f*(b-a) with f == 0 returns a exactly, so exact order statistics stay exact.
  return values[lo] + frac * (values[hi] - values[lo]);
}

// Where the sums below start: 6 sqrt(n), 12 standard deviations, under the mean n/2.
// The lower tail left out is below exp(-72) ~ 5e-32 (Hoeffding: P(B <= n/2 - t) <=
// exp(-2 t^2 / n)), far under any alpha a double confidence can express (>= 1.1e-16).
uint64_t SumStart(uint64_t n) {
  const double start = static_cast<double>(n) / 2 - 6 * std::sqrt(static_cast<double>(n));
  return start > 0 ? static_cast<uint64_t>(start) : 0;
}

double LogHalfPmf(uint64_t n, uint64_t k) {
  const double dn = static_cast<double>(n), dk = static_cast<double>(k);
  return std::lgamma(dn + 1) - std::lgamma(dk + 1) - std::lgamma(dn - dk + 1) -
         dn * std::log(2.0);
}

}  // namespace

double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return QuantileOfSorted(values, q);
}

double Median(std::vector<double> values) { return MedianInPlace(values); }

double BinomialHalfCdf(uint64_t n, uint64_t k) {
  if (k >= n) return 1.0;
  const uint64_t start = k < SumStart(n) ? 0 : SumStart(n);
  double pmf = std::exp(LogHalfPmf(n, start)), cdf = 0;
  for (uint64_t j = start; j <= k; ++j) {
    cdf += pmf;
    pmf *= static_cast<double>(n - j) / static_cast<double>(j + 1);
  }
  return std::min(1.0, cdf);
}

uint64_t MedianCiRank(uint64_t n, double confidence) {
  const double alpha = 1.0 - confidence;
  const uint64_t start = SumStart(n), max_rank = (n + 1) / 2;
  double pmf = std::exp(LogHalfPmf(n, start)), cdf = 0;
  uint64_t rank = 0;
  // Rank l covers with 1 - 2 P(B <= l - 1); P grows with l: walk up while it holds.
  for (uint64_t j = start; j + 1 <= max_rank; ++j) {
    cdf += pmf;
    if (2 * cdf > alpha) break;
    rank = j + 1;
    pmf *= static_cast<double>(n - j) / static_cast<double>(j + 1);
  }
  return rank;
}

Interval OrderStatisticMedianCi(const std::vector<double>& sorted, double confidence) {
  const uint64_t rank = MedianCiRank(sorted.size(), confidence);
  if (rank == 0) return {0, std::numeric_limits<double>::infinity()};
  return {sorted[rank - 1], sorted[sorted.size() - rank]};
}

Interval OrderStatisticRatioCi(const Interval& num, const Interval& den) {
  const double inf = std::numeric_limits<double>::infinity();
  if (!std::isfinite(num.hi) || !std::isfinite(den.hi) || !(den.lo > 0) || !(den.hi > 0)) {
    return {0, inf};
  }
  return {num.lo / den.hi, num.hi / den.lo};
}

LatencySummary SummarizeLatency(const std::vector<double>& samples, const IntervalOptions& opts) {
  return SummarizeReplicates({samples}, opts);
}

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double StudentTCdf(double t, int df) {
  if (df < 1) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  // A(|t| | df) = P(|T| < |t|) as a finite series in cos(theta), theta = atan(|t|/sqrt(df)).
  const double theta = std::atan(std::fabs(t) / std::sqrt(static_cast<double>(df)));
  const double c2 = std::cos(theta) * std::cos(theta), sn = std::sin(theta);
  double a = 0;
  if (df % 2 == 1) {
    double sum = 0;
    if (df > 1) {
      double term = std::cos(theta);
      sum = term;
      for (int k = 3; k <= df - 2; k += 2) {
        term *= c2 * (k - 1) / k;
        sum += term;
      }
    }
    a = 2.0 / 3.14159265358979323846 * (theta + sn * sum);
  } else {
    double term = 1, sum = 1;
    for (int k = 2; k <= df - 2; k += 2) {
      term *= c2 * (k - 1) / k;
      sum += term;
    }
    a = sn * sum;
  }
  a = std::min(1.0, std::max(0.0, a));
  return t >= 0 ? 0.5 + a / 2 : 0.5 - a / 2;
}

double StudentTQuantile(double p, int df) {
  if (df < 1 || !(p > 0 && p < 1)) return std::numeric_limits<double>::quiet_NaN();
  if (p < 0.5) return -StudentTQuantile(1 - p, df);
  double lo = 0, hi = 1;
  while (StudentTCdf(hi, df) < p) hi *= 2;  // df 1, p 0.9999: 3183
  while (hi - lo > 1e-12 * std::max(1.0, hi)) {
    const double mid = lo + (hi - lo) / 2;
    (StudentTCdf(mid, df) < p ? lo : hi) = mid;
  }
  return lo + (hi - lo) / 2;
}

LogMedians SummarizeLogMedians(const std::vector<double>& medians) {
  LogMedians m;
  m.n = static_cast<int>(medians.size());
  if (m.n == 0) return m;
  for (double x : medians) m.mean += std::log(x);
  m.mean /= m.n;
  for (double x : medians) m.ss += (std::log(x) - m.mean) * (std::log(x) - m.mean);
  return m;
}

std::optional<RatioEstimate> ReplicateRatio(const LogMedians& num, const LogMedians& den,
                                            double confidence) {
  const int df = num.n + den.n - 2;
  if (num.n < 1 || den.n < 1 || df < 1) return std::nullopt;
  RatioEstimate r;
  r.df = df;
  r.log_sd = std::sqrt((num.ss + den.ss) / df);
  const double d = num.mean - den.mean;
  const double half = StudentTQuantile(0.5 + confidence / 2, df) * r.log_sd *
                      std::sqrt(1.0 / num.n + 1.0 / den.n);
  r.ratio = std::exp(d);
  r.ci = {std::exp(d - half), std::exp(d + half)};
  return r;
}

double DetectionPower(double log_change, double log_sd, int n1, int n2, double confidence,
                      double min_effect) {
  const int df = n1 + n2 - 2;
  if (n1 < 1 || n2 < 1 || df < 1) return 0;
  const double up = std::log1p(min_effect), down = -std::log1p(-min_effect);
  const double se = log_sd * std::sqrt(1.0 / n1 + 1.0 / n2);
  if (!(se > 0)) return log_change > up || log_change < -down ? 1.0 : 0.0;
  const double t = StudentTQuantile(0.5 + confidence / 2, df);
  // The estimated se is se * w / sqrt(df), w = sqrt(chi-square(df)), independent of the
  // estimated change (normal around log_change with sd se). Simpson's rule over w.
  auto given_w = [&](double w) {
    const double est_se = se * w / std::sqrt(static_cast<double>(df));
    const double slower = 1 - NormalCdf((std::max(t * est_se, up) - log_change) / se);
    const double faster = NormalCdf((-std::max(t * est_se, down) - log_change) / se);
    return slower + faster;
  };
  const double log_norm = (df / 2.0 - 1) * std::log(2.0) + std::lgamma(df / 2.0);
  auto density = [&](double w) {  // of w: 2 w f_chi2(w^2)
    if (w <= 0) return df == 1 ? std::exp(-log_norm) : 0.0;
    return std::exp((df - 1) * std::log(w) - w * w / 2 - log_norm);
  };
  const double w_max = std::sqrt(df + 20 * std::sqrt(2.0 * df) + 40);
  const int steps = 2000;  // even
  const double h = w_max / steps;
  double sum = 0;
  for (int i = 0; i <= steps; ++i) {
    const double w = i * h;
    const double weight = i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2;
    sum += weight * density(w) * given_w(w);
  }
  return std::min(1.0, std::max(0.0, sum * h / 3));
}

double DetectableChange(double log_sd, int n1, int n2, double confidence, double min_effect,
                        double power) {
  auto finds = [&](double d) {
    return DetectionPower(d, log_sd, n1, n2, confidence, min_effect) >= power;
  };
  double lo = 0, hi = std::log(100.0);
  if (!finds(hi)) return std::numeric_limits<double>::infinity();
  for (int i = 0; i < 60; ++i) {
    const double mid = lo + (hi - lo) / 2;
    (finds(mid) ? hi : lo) = mid;
  }
  return std::expm1(hi);
}

LatencySummary SummarizeReplicates(const std::vector<std::vector<double>>& replicates,
                                   const IntervalOptions& opts) {
  LatencySummary s;
  std::vector<double> sorted;
  size_t non_empty = 0, total = 0;
  for (const std::vector<double>& r : replicates) {
    non_empty += !r.empty();
    total += r.size();
  }
  sorted.reserve(total);
  for (const std::vector<double>& r : replicates) {
    if (r.empty()) continue;
    // One replicate's median is the pool's, taken once it is sorted below.
    if (non_empty > 1) s.replicate_medians.push_back(Median(r));
    sorted.insert(sorted.end(), r.begin(), r.end());
  }
  s.count = sorted.size();
  s.replicates = non_empty;
  if (sorted.empty()) return s;
  std::sort(sorted.begin(), sorted.end());
  if (non_empty == 1) s.replicate_medians.push_back(MedianOfSorted(sorted));
  s.confidence = opts.confidence;
  s.p90 = QuantileOfSorted(sorted, 0.9);
  s.p99 = QuantileOfSorted(sorted, 0.99);
  s.log_medians = SummarizeLogMedians(s.replicate_medians);
  if (s.replicates == 1) {
    s.median = QuantileOfSorted(sorted, 0.5);
    s.median_ci = OrderStatisticMedianCi(sorted, opts.confidence);
    s.ratio_part = OrderStatisticMedianCi(sorted, std::sqrt(opts.confidence));
    return s;
  }
  const LogMedians& m = s.log_medians;
  const double half = StudentTQuantile(0.5 + opts.confidence / 2, m.n - 1) *
                      std::sqrt(m.ss / (m.n - 1) / m.n);
  s.median = std::exp(m.mean);
  s.median_ci = {std::exp(m.mean - half), std::exp(m.mean + half)};
  return s;
}

}  // namespace orch::report
