#include "report/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace orch::report {
namespace {

// Median of a scratch buffer, reordering it (nth_element: O(n) per bootstrap resample).
double MedianInPlace(std::vector<double>& v) {
  const size_t n = v.size();
  const size_t mid = n / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double upper = v[mid];
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + mid);
  return lower + (upper - lower) / 2;
}

}  // namespace

Interval PercentileInterval(std::vector<double> stats, double confidence) {
  const double alpha = (1.0 - confidence) / 2;
  std::sort(stats.begin(), stats.end());
  return {Quantile(stats, alpha), Quantile(stats, 1.0 - alpha)};
}

double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  // a + f*(b-a) with f == 0 returns a exactly, so exact order statistics stay exact.
  return values[lo] + frac * (values[hi] - values[lo]);
}

double Median(std::vector<double> values) { return MedianInPlace(values); }

uint64_t IndexDraw::Next(uint64_t n) {
  // Lemire's multiply-shift with rejection ("Fast random integer generation in an
  // interval", 2019): unbiased, and a division only in the rare rejection branch.
  unsigned __int128 m = static_cast<unsigned __int128>(engine_()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      m = static_cast<unsigned __int128>(engine_()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

uint64_t DeriveSeed(uint64_t seed, std::string_view a, std::string_view b) {
  // FNV-1a over the labels, mixed into the seed: stable across platforms and builds.
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
    h *= 0x100000001b3ULL;
  };
  mix(a);
  mix(b);
  return h;
}

std::vector<double> BootstrapMedians(const std::vector<double>& samples,
                                     const BootstrapOptions& opts) {
  // A resample is a multiset of positions in the sorted samples: counting how often each
  // position is drawn and walking the counts finds its median exactly, in O(n) with no
  // copying or partitioning (this loop is most of the report's run time).
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const size_t lower_rank = (n - 1) / 2, upper_rank = n / 2;
  IndexDraw draw(opts.seed);
  std::vector<uint32_t> counts(n);
  std::vector<double> medians;
  medians.reserve(opts.resamples);
  for (int r = 0; r < opts.resamples; ++r) {
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t i = 0; i < n; ++i) ++counts[draw.Next(n)];
    size_t seen = 0, j = 0;
    while (seen + counts[j] <= lower_rank) seen += counts[j++];
    const double lower = sorted[j];
    while (seen + counts[j] <= upper_rank) seen += counts[j++];
    const double upper = sorted[j];
    medians.push_back(lower + (upper - lower) / 2);
  }
  return medians;
}

Interval RatioInterval(const std::vector<double>& num, const std::vector<double>& den,
                       double confidence) {
  std::vector<double> ratios;
  ratios.reserve(num.size());
  for (size_t i = 0; i < num.size() && i < den.size(); ++i) {
    ratios.push_back(den[i] > 0 ? num[i] / den[i] : std::numeric_limits<double>::infinity());
  }
  return PercentileInterval(std::move(ratios), confidence);
}

Interval BootstrapMedianCi(const std::vector<double>& samples, const BootstrapOptions& opts) {
  return PercentileInterval(BootstrapMedians(samples, opts), opts.confidence);
}

Interval BootstrapRatioCi(const std::vector<double>& numerator,
                          const std::vector<double>& denominator, const BootstrapOptions& opts) {
  BootstrapOptions den_opts = opts;
  den_opts.seed = opts.seed + 1;
  return RatioInterval(BootstrapMedians(numerator, opts), BootstrapMedians(denominator, den_opts),
                       opts.confidence);
}

LatencySummary SummarizeLatency(const std::vector<double>& samples, const BootstrapOptions& opts) {
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
                                   const BootstrapOptions& opts) {
  LatencySummary s;
  std::vector<double> sorted;
  for (const std::vector<double>& r : replicates) {
    if (r.empty()) continue;
    s.replicate_medians.push_back(Median(r));
    sorted.insert(sorted.end(), r.begin(), r.end());
  }
  s.count = sorted.size();
  s.replicates = s.replicate_medians.size();
  if (sorted.empty()) return s;
  std::sort(sorted.begin(), sorted.end());
  s.p90 = Quantile(sorted, 0.9);
  s.p99 = Quantile(sorted, 0.99);
  s.log_medians = SummarizeLogMedians(s.replicate_medians);
  if (s.replicates == 1) {
    s.median = Quantile(sorted, 0.5);
    s.bootstrap_medians = BootstrapMedians(sorted, opts);
    s.median_ci = PercentileInterval(s.bootstrap_medians, opts.confidence);
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
