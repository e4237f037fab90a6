#include "report/stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

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

std::vector<double> Ramp(int n, double start, double step) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(start + step * ((i * 37) % n));
  return v;
}

// Exact binomial probabilities by counting: C(n, k) / 2^n with integer arithmetic.
double ExactHalfCdf(int n, int k) {
  long double c = 1, sum = 0;  // C(n, 0)
  for (int j = 0; j <= k && j <= n; ++j) {
    sum += c;
    c = c * (n - j) / (j + 1);
  }
  return static_cast<double>(sum / std::pow(2.0L, n));
}

TEST(BinomialHalfCdf, MatchesCountingForSmallAndLargeN) {
  for (int n : {1, 2, 5, 10, 31, 64, 200, 1000, 4000}) {
    for (int k = 0; k <= n; k += std::max(1, n / 37)) {
      const double want = ExactHalfCdf(n, k);
      EXPECT_NEAR(BinomialHalfCdf(n, k), want, 1e-12 + 1e-9 * want) << n << " " << k;
    }
  }
  EXPECT_EQ(BinomialHalfCdf(7, 7), 1.0);
  // Symmetry: P(B <= k) + P(B <= n - k - 1) = 1; at 10^6 lgamma's rounding (~1e-9 of
  // log C(n, k) ~ 7e5) limits the relative accuracy to ~1e-8 (stats.h).
  EXPECT_NEAR(BinomialHalfCdf(1000001, 499000) + BinomialHalfCdf(1000001, 501000), 1.0, 1e-8);
}

TEST(MedianCiRank, MatchesTheTables) {
  // Conover (1999), Table A3 / the usual sign-test tables: the 95% interval of the
  // median is [x_(2), x_(9)] for n = 10, [x_(6), x_(15)] for n = 20 and [x_(40),
  // x_(61)] for n = 100; [x_(1), x_(6)] for n = 6; none for n = 5 (2/32 > 0.05).
  EXPECT_EQ(MedianCiRank(10, 0.95), 2u);
  EXPECT_EQ(MedianCiRank(20, 0.95), 6u);
  EXPECT_EQ(MedianCiRank(100, 0.95), 40u);
  EXPECT_EQ(MedianCiRank(6, 0.95), 1u);
  EXPECT_EQ(MedianCiRank(5, 0.95), 0u);
  EXPECT_EQ(MedianCiRank(1, 0.95), 0u);
  // The definition, at every n up to 300 and two confidences: rank l covers, l + 1 not.
  for (int n = 1; n <= 300; ++n) {
    for (double conf : {0.95, 0.99}) {
      const uint64_t l = MedianCiRank(n, conf);
      if (l > 0) EXPECT_GE(1 - 2 * ExactHalfCdf(n, static_cast<int>(l) - 1), conf) << n;
      if (l + 1 <= static_cast<uint64_t>((n + 1) / 2)) {
        EXPECT_LT(1 - 2 * ExactHalfCdf(n, static_cast<int>(l)), conf) << n;
      }
    }
  }
  // Large n: about n/2 - 1.96 sqrt(n)/2.
  EXPECT_NEAR(static_cast<double>(MedianCiRank(1000000, 0.95)), 500000 - 980, 2);
}

TEST(OrderStatisticMedianCi, PicksTheRankedValues) {
  std::vector<double> v;
  for (int i = 1; i <= 20; ++i) v.push_back(i * 1.5);
  const Interval ci = OrderStatisticMedianCi(v, 0.95);
  EXPECT_EQ(ci.lo, 6 * 1.5);
  EXPECT_EQ(ci.hi, 15 * 1.5);
  const Interval none = OrderStatisticMedianCi({1, 2, 3, 4, 5}, 0.95);
  EXPECT_EQ(none.lo, 0);
  EXPECT_TRUE(std::isinf(none.hi));
}

TEST(OrderStatisticRatioCi, DividesTheParts) {
  const Interval r = OrderStatisticRatioCi({3, 6}, {2, 4});
  EXPECT_DOUBLE_EQ(r.lo, 0.75);
  EXPECT_DOUBLE_EQ(r.hi, 3);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isinf(OrderStatisticRatioCi({3, 6}, {0, inf}).hi));
  EXPECT_TRUE(std::isinf(OrderStatisticRatioCi({3, 6}, {0, 4}).hi));
}

TEST(SummarizeLatency, ReportsPercentilesOfPooledSamples) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  const LatencySummary s = SummarizeLatency(v, IntervalOptions{});
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.median, 50.5);
  EXPECT_DOUBLE_EQ(s.p90, 90.1);
  EXPECT_DOUBLE_EQ(s.p99, 99.01);
  EXPECT_TRUE(s.median_ci.Contains(50.5));
  // One replicate: the order-statistic interval, [x_(40), x_(61)] at n = 100; its
  // ratio part at sqrt(0.95) is wider.
  EXPECT_EQ(s.median_ci.lo, 40);
  EXPECT_EQ(s.median_ci.hi, 61);
  ASSERT_TRUE(s.ratio_part);
  EXPECT_LE(s.ratio_part->lo, s.median_ci.lo);
  EXPECT_GE(s.ratio_part->hi, s.median_ci.hi);
  EXPECT_EQ(s.ratio_part->lo, 100 + 1 - s.ratio_part->hi);
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
  // Four runs whose levels differ by a few percent: a pooled token interval sees only
  // the (small) within-run spread; the replicate-level interval sees the runs differ.
  const std::vector<std::vector<double>> runs = {Around(10.0, 200), Around(10.4, 200),
                                                 Around(9.7, 200), Around(10.2, 200)};
  std::vector<double> pooled;
  for (const auto& r : runs) pooled.insert(pooled.end(), r.begin(), r.end());
  IntervalOptions opts;
  const LatencySummary two = SummarizeReplicates(runs, opts);
  std::sort(pooled.begin(), pooled.end());
  const Interval one = OrderStatisticMedianCi(pooled, opts.confidence);
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
