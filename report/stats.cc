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

std::vector<double> TwoLevelBootstrapMedians(const std::vector<std::vector<double>>& replicates,
                                             const BootstrapOptions& opts) {
  if (replicates.empty()) return {};
  if (replicates.size() == 1) return BootstrapMedians(replicates.front(), opts);
  // As in BootstrapMedians, a resample is a count per position in the sorted pool; each
  // replicate's tokens know their pool position, so a resample costs O(pooled draws).
  std::vector<std::pair<double, std::pair<uint32_t, uint32_t>>> tagged;  // value, (r, j)
  std::vector<std::vector<uint32_t>> where(replicates.size());  // pool position of (r, j)
  for (size_t r = 0; r < replicates.size(); ++r) {
    where[r].resize(replicates[r].size());
    for (size_t j = 0; j < replicates[r].size(); ++j)
      tagged.push_back({replicates[r][j], {static_cast<uint32_t>(r), static_cast<uint32_t>(j)}});
  }
  std::sort(tagged.begin(), tagged.end());
  std::vector<double> pool(tagged.size());
  for (size_t p = 0; p < tagged.size(); ++p) {
    pool[p] = tagged[p].first;
    where[tagged[p].second.first][tagged[p].second.second] = static_cast<uint32_t>(p);
  }
  const size_t n_rep = replicates.size();
  IndexDraw draw(opts.seed);
  std::vector<uint32_t> counts(pool.size());
  std::vector<double> medians;
  medians.reserve(opts.resamples);
  for (int b = 0; b < opts.resamples; ++b) {
    std::fill(counts.begin(), counts.end(), 0);
    size_t total = 0;
    for (size_t k = 0; k < n_rep; ++k) {
      const std::vector<uint32_t>& pos = where[draw.Next(n_rep)];
      for (size_t i = 0; i < pos.size(); ++i) ++counts[pos[draw.Next(pos.size())]];
      total += pos.size();
    }
    const size_t lower_rank = (total - 1) / 2, upper_rank = total / 2;
    size_t seen = 0, j = 0;
    while (seen + counts[j] <= lower_rank) seen += counts[j++];
    const double lower = pool[j];
    while (seen + counts[j] <= upper_rank) seen += counts[j++];
    const double upper = pool[j];
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

LatencySummary SummarizeReplicates(const std::vector<std::vector<double>>& replicates,
                                   const BootstrapOptions& opts) {
  LatencySummary s;
  std::vector<std::vector<double>> reps;
  std::vector<double> sorted;
  for (const std::vector<double>& r : replicates) {
    if (r.empty()) continue;
    reps.push_back(r);
    sorted.insert(sorted.end(), r.begin(), r.end());
  }
  s.count = sorted.size();
  s.replicates = reps.size();
  if (sorted.empty()) return s;
  std::sort(sorted.begin(), sorted.end());
  s.median = Quantile(sorted, 0.5);
  s.p90 = Quantile(sorted, 0.9);
  s.p99 = Quantile(sorted, 0.99);
  s.bootstrap_medians = TwoLevelBootstrapMedians(reps, opts);
  s.median_ci = PercentileInterval(s.bootstrap_medians, opts.confidence);
  return s;
}

}  // namespace orch::report
