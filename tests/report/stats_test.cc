#include "report/stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace orch::report {
namespace {

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
  EXPECT_DOUBLE_EQ(Quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile({1, 2, 3, 4, 5}, 0.9), 4.6);
  EXPECT_DOUBLE_EQ(Quantile({7}, 0.99), 7);
  EXPECT_DOUBLE_EQ(Quantile({1, 2}, 0.0), 1);
  EXPECT_DOUBLE_EQ(Quantile({1, 2}, 1.0), 2);
}

TEST(Median, OddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(Median({5, 1, 3}), 3);
  EXPECT_DOUBLE_EQ(Median({5, 1, 3, 10}), 4);
}

TEST(IndexDraw, SameSeedSameSequenceAndInRange) {
  IndexDraw a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.Next(13);
    EXPECT_LT(x, 13u);
    EXPECT_EQ(x, b.Next(13));
    differs |= x != c.Next(13);
  }
  EXPECT_TRUE(differs);
  IndexDraw one(1);
  EXPECT_EQ(one.Next(1), 0u);
}

TEST(IndexDraw, SequenceIsPinnedAcrossPlatforms) {
  // mt19937_64 is fully specified by the standard, and the draw is ours: these values
  // must never change, or every recorded report's CIs would shift.
  IndexDraw d(5489);
  std::vector<uint64_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(d.Next(1000));
  std::mt19937_64 e(5489);
  std::vector<uint64_t> want;
  // Multiply-shift: the high 64 bits of x * n (rejection never triggers for these draws).
  for (int i = 0; i < 4; ++i) {
    want.push_back(static_cast<uint64_t>((static_cast<unsigned __int128>(e()) * 1000) >> 64));
  }
  EXPECT_EQ(want, (std::vector<uint64_t>{786, 250, 710, 946}));  // pinned once, computed
  EXPECT_EQ(got, want);
}

TEST(IndexDraw, RoughlyUniform) {
  IndexDraw d(3);
  std::map<uint64_t, int> counts;
  for (int i = 0; i < 60000; ++i) ++counts[d.Next(6)];
  for (const auto& [k, n] : counts) EXPECT_NEAR(n, 10000, 400) << k;
}

TEST(DeriveSeed, DependsOnSeedAndLabels) {
  EXPECT_EQ(DeriveSeed(1, "abc"), DeriveSeed(1, "abc"));
  EXPECT_NE(DeriveSeed(1, "abc"), DeriveSeed(2, "abc"));
  EXPECT_NE(DeriveSeed(1, "ab", "c"), DeriveSeed(1, "a", "bc"));
}

std::vector<double> Ramp(int n, double start, double step) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(start + step * ((i * 37) % n));
  return v;
}

TEST(BootstrapMedianCi, ContainsMedianAndNarrowsWithMoreSamples) {
  BootstrapOptions opts;
  const std::vector<double> small = Ramp(21, 10, 0.1), large = Ramp(801, 10, 0.1 * 21 / 801);
  const Interval a = BootstrapMedianCi(small, opts), b = BootstrapMedianCi(large, opts);
  EXPECT_TRUE(a.Contains(Median(small)));
  EXPECT_TRUE(b.Contains(Median(large)));
  EXPECT_LT(b.hi - b.lo, a.hi - a.lo);
  EXPECT_LE(a.lo, a.hi);
}

TEST(BootstrapMedians, EqualTheMedianOfEachResample) {
  // The counting shortcut must give exactly what sorting each resample would.
  const std::vector<double> v = Ramp(10, 1, 1.5);
  BootstrapOptions opts;
  opts.resamples = 50;
  const std::vector<double> fast = BootstrapMedians(v, opts);
  IndexDraw draw(opts.seed);
  for (int r = 0; r < opts.resamples; ++r) {
    std::vector<double> sorted = v, resample;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < v.size(); ++i) resample.push_back(sorted[draw.Next(v.size())]);
    EXPECT_DOUBLE_EQ(fast[r], Median(resample)) << r;
  }
}

TEST(BootstrapMedianCi, DeterministicForAFixedSeed) {
  BootstrapOptions opts;
  const std::vector<double> v = Ramp(101, 1, 0.5);
  const Interval a = BootstrapMedianCi(v, opts), b = BootstrapMedianCi(v, opts);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  // Another seed draws other resamples (the CI itself may land on the same order
  // statistics of this evenly spaced sample).
  const std::vector<double> first = BootstrapMedians(v, opts);
  EXPECT_EQ(first, BootstrapMedians(v, opts));
  opts.seed += 1;
  EXPECT_NE(first, BootstrapMedians(v, opts));
}

TEST(BootstrapRatioCi, CoversTheTrueRatio) {
  BootstrapOptions opts;
  const std::vector<double> den = Ramp(200, 10, 0.01);
  std::vector<double> num;
  for (double x : den) num.push_back(x * 1.5);
  const Interval ci = BootstrapRatioCi(num, den, opts);
  EXPECT_TRUE(ci.Contains(1.5)) << ci.lo << " " << ci.hi;
  EXPECT_GT(ci.lo, 1.3);
  const Interval same = BootstrapRatioCi(den, den, opts);
  EXPECT_TRUE(same.Contains(1.0));
}

TEST(SummarizeLatency, ReportsPercentilesOfPooledSamples) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  const LatencySummary s = SummarizeLatency(v, BootstrapOptions{});
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.median, 50.5);
  EXPECT_DOUBLE_EQ(s.p90, 90.1);
  EXPECT_DOUBLE_EQ(s.p99, 99.01);
  EXPECT_TRUE(s.median_ci.Contains(50.5));
}

// `n` deterministic values spread +/-1% around `centre`.
std::vector<double> Around(double centre, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(centre * (0.99 + 0.02 * ((i * 37) % n) / (n - 1.0)));
  return v;
}

TEST(StudentT, QuantilesMatchTheTables) {
  // R: qt(0.975, df) for df = 1, 2, 4, 10, 100; qt(0.8, 3).
  EXPECT_NEAR(StudentTQuantile(0.975, 1), 12.7062047, 1e-6);
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 4.30265273, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 4), 2.77644511, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 10), 2.22813885, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 100), 1.98397152, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.8, 3), 0.97847231, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.025, 4), -2.77644511, 1e-7);
  EXPECT_DOUBLE_EQ(StudentTCdf(0, 7), 0.5);
  EXPECT_NEAR(StudentTCdf(-1.5, 5) + StudentTCdf(1.5, 5), 1.0, 1e-15);
  EXPECT_NEAR(NormalCdf(1.959963985), 0.975, 1e-9);
}

TEST(ReplicateRatio, PooledTIntervalOfTheLogMedians) {
  // Log medians {0, 0.1} and {0.2, 0.4}: means 0.05 and 0.3, ss 0.005 and 0.02, df 2,
  // s_p = sqrt(0.0125), se = s_p * sqrt(1/2 + 1/2).
  const LogMedians base = SummarizeLogMedians({1.0, std::exp(0.1)});
  const LogMedians cell = SummarizeLogMedians({std::exp(0.2), std::exp(0.4)});
  const std::optional<RatioEstimate> r = ReplicateRatio(cell, base, 0.95);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->df, 2);
  EXPECT_NEAR(r->ratio, std::exp(0.25), 1e-12);
  const double half = 4.30265273 * std::sqrt(0.0125);
  EXPECT_NEAR(r->ci.lo, std::exp(0.25 - half), 1e-7);
  EXPECT_NEAR(r->ci.hi, std::exp(0.25 + half), 1e-7);
  EXPECT_FALSE(ReplicateRatio(SummarizeLogMedians({2.0}), SummarizeLogMedians({3.0}), 0.95));
}

TEST(DetectionPower, GrowsWithTheChangeAndTheReplicates) {
  const double sd = 0.05;
  EXPECT_LT(DetectionPower(0, sd, 3, 3, 0.95, 0.02), 0.05);
  EXPECT_LT(DetectionPower(0.05, sd, 3, 3, 0.95, 0.02), DetectionPower(0.10, sd, 3, 3, 0.95, 0.02));
  EXPECT_LT(DetectionPower(0.10, sd, 3, 3, 0.95, 0.02), DetectionPower(0.10, sd, 5, 5, 0.95, 0.02));
  EXPECT_GT(DetectionPower(1.0, sd, 3, 3, 0.95, 0.02), 0.999);
  // Without spread only the minimum effect decides.
  EXPECT_EQ(DetectionPower(0.03, 0, 3, 3, 0.95, 0.02), 1.0);
  EXPECT_EQ(DetectionPower(0.01, 0, 3, 3, 0.95, 0.02), 0.0);
  // Large df: the normal-theory power, 1 - Phi(1.96 - d/se) (+ the other tail).
  const double se = sd * std::sqrt(2.0 / 200);
  EXPECT_NEAR(DetectionPower(0.03, sd, 200, 200, 0.95, 0), 1 - NormalCdf(1.966 - 0.03 / se), 0.01);
  const double d = DetectableChange(sd, 3, 3, 0.95, 0.02, 0.8);
  EXPECT_NEAR(DetectionPower(std::log1p(d), sd, 3, 3, 0.95, 0.02), 0.8, 1e-6);
  EXPECT_LT(DetectableChange(sd, 10, 10, 0.95, 0.02, 0.8), d);
  EXPECT_TRUE(std::isinf(DetectableChange(sd, 1, 1, 0.95, 0.02, 0.8)));
}

TEST(SummarizeReplicates, ReplicateSpreadWidensTheInterval) {
  // Four runs whose levels differ by a few percent: the pooled token bootstrap sees
  // only the (small) within-run spread; the replicate-level interval sees the runs differ.
  const std::vector<std::vector<double>> runs = {Around(10.0, 200), Around(10.4, 200),
                                                 Around(9.7, 200), Around(10.2, 200)};
  std::vector<double> pooled;
  for (const auto& r : runs) pooled.insert(pooled.end(), r.begin(), r.end());
  BootstrapOptions opts;
  const LatencySummary two = SummarizeReplicates(runs, opts);
  const Interval one = BootstrapMedianCi(pooled, opts);
  EXPECT_EQ(two.replicates, 4u);
  EXPECT_EQ(two.count, 800u);
  std::vector<double> logs;
  for (const auto& r : runs) logs.push_back(std::log(Median(r)));
  double mean = 0, ss = 0;
  for (double x : logs) mean += x / 4;
  for (double x : logs) ss += (x - mean) * (x - mean);
  EXPECT_NEAR(two.median, std::exp(mean), 1e-12);  // geometric mean of the run medians
  const double half = 3.18244631 * std::sqrt(ss / 3 / 4);  // qt(0.975, 3)
  EXPECT_NEAR(two.median_ci.lo, std::exp(mean - half), 1e-7);
  EXPECT_NEAR(two.median_ci.hi, std::exp(mean + half), 1e-7);
  EXPECT_TRUE(two.median_ci.Contains(two.median));
  EXPECT_GT(two.median_ci.hi - two.median_ci.lo, 3 * (one.hi - one.lo))
      << "two-level [" << two.median_ci.lo << ", " << two.median_ci.hi << "] pooled ["
      << one.lo << ", " << one.hi << "]";
  // Identical runs: the replicate level adds (almost) nothing.
  const std::vector<std::vector<double>> same = {Around(10.0, 200), Around(10.0, 200),
                                                 Around(10.0, 200), Around(10.0, 200)};
  const LatencySummary flat = SummarizeReplicates(same, opts);
  EXPECT_LT(flat.median_ci.hi - flat.median_ci.lo, two.median_ci.hi - two.median_ci.lo);
  // Deterministic, and empty replicates are ignored.
  std::vector<std::vector<double>> with_empty = runs;
  with_empty.insert(with_empty.begin() + 1, std::vector<double>{});
  const LatencySummary again = SummarizeReplicates(with_empty, opts);
  EXPECT_EQ(again.replicates, 4u);
  EXPECT_EQ(again.median_ci.lo, two.median_ci.lo);
  EXPECT_EQ(again.median_ci.hi, two.median_ci.hi);
}

}  // namespace
}  // namespace orch::report
