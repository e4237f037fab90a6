// The coverage of the report's speed intervals, measured (issue 22). Synthetic cells
// whose replicates (worker processes) each draw a log-normal between-process factor and
// whose tokens add log-normal noise around it, compared through the report's own path
// (SummarizeReplicates, CompareMeasurements): with no true difference the 95% interval
// of the ratio must cover 1 in 95% +/- 2% of 2,000 comparisons for every replicate
// count 2..10 and several spreads; with a true 10% slowdown the verdict must find it as
// often as DetectionPower (what the report states) says. The two-level percentile
// bootstrap the report used before covered 78-85% at 2-3 replicates (spread 0.10) and
// 98% at 7-9 (spread 0.03): it fails this test. With one replicate the report makes
// no claim; its order-statistic intervals must still cover at least 95% (last test).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "report/facts.h"
#include "report/stats.h"

namespace orch::report {
namespace {

constexpr int kComparisons = 2000;
constexpr int kTokens = 16;
constexpr double kTokenSd = 0.10;  // log-sd of one token's latency around its replicate's

// Standard normal draws fully specified here (Box-Muller on mt19937_64), so the test
// sees the same numbers with every standard library.
class Normal {
 public:
  explicit Normal(uint64_t seed) : engine_(seed) {}
  double Next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(engine_() >> 11) + 1) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(engine_() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2 * std::log(u1));
    spare_ = r * std::sin(2 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2 * M_PI * u2);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

// An ok cell of `replicates` worker processes with true median TPOT `ms`.
Cell SimulatedCell(Normal& z, double ms, int replicates, double between_sd, int tokens = kTokens) {
  std::vector<std::vector<double>> reps(replicates);
  for (std::vector<double>& r : reps) {
    const double process = ms * std::exp(between_sd * z.Next());
    for (int t = 0; t < tokens; ++t) r.push_back(process * std::exp(kTokenSd * z.Next()));
  }
  IntervalOptions opts;
  Cell c;
  c.outcome = "ok";
  c.tpot = SummarizeReplicates(reps, opts);
  return c;
}

struct Tally {
  int covered = 0;  // the interval holds the true ratio
  int claimed = 0;  // slower or faster
};

Tally Simulate(double true_ratio, int replicates, double between_sd, uint64_t seed) {
  Normal z(seed);
  Tally t;
  for (int i = 0; i < kComparisons; ++i) {
    const Cell base = SimulatedCell(z, 20.0, replicates, between_sd);
    const Cell cell = SimulatedCell(z, 20.0 * true_ratio, replicates, between_sd);
    const Comparison c = CompareMeasurements(cell, base, 0.95, 0.02, 0.01);
    t.covered += c.ratio_ci.Contains(true_ratio);
    t.claimed += c.speed == SpeedVerdict::kSlower || c.speed == SpeedVerdict::kFaster;
  }
  return t;
}

TEST(Coverage, TheRatioIntervalCoversOneIn95PercentFor2To10Replicates) {
  for (double between_sd : {0.03, 0.10, 0.17}) {
    for (int n = 2; n <= 10; ++n) {
      const Tally t = Simulate(1.0, n, between_sd, 1000 * n + static_cast<int>(100 * between_sd));
      const double coverage = static_cast<double>(t.covered) / kComparisons;
      EXPECT_NEAR(coverage, 0.95, 0.02) << n << " replicates, between-process sd " << between_sd;
      // Every claim in an A/A comparison is false: at most the non-covered share.
      EXPECT_LE(t.claimed, kComparisons * 0.07)
          << n << " replicates, between-process sd " << between_sd;
    }
  }
}

TEST(Coverage, ATenPercentSlowdownIsFoundAsOftenAsThePowerStated) {
  const double between_sd = 0.10;
  // A replicate's log median carries the token noise too: ~ pi/2 * sd^2 / tokens.
  const double sd = std::sqrt(between_sd * between_sd + M_PI / 2 * kTokenSd * kTokenSd / kTokens);
  for (int n = 2; n <= 10; ++n) {
    const double stated = DetectionPower(std::log(1.10), sd, n, n, 0.95, 0.02);
    const Tally t = Simulate(1.10, n, between_sd, 77 + n);
    const double found = static_cast<double>(t.claimed) / kComparisons;
    // 3.5 points: over three binomial standard errors at any power.
    EXPECT_NEAR(found, stated, 0.035) << n << " replicates";
  }
}

// One replicate of independent tokens (no between-process spread, the case the
// within-run interval is about): the order-statistic intervals are exact and
// conservative, so the median's covers the true median (20 ms) and the ratio's the true
// ratio in at least 95% of comparisons, at token counts where the binomial ranks are
// coarse (6, 16) and fine (128).
TEST(Coverage, TheOneReplicateIntervalsCoverAtLeast95Percent) {
  for (int tokens : {6, 16, 128}) {
    for (double true_ratio : {1.0, 1.10}) {
      Normal z(500 + tokens);
      int median_covered = 0, ratio_covered = 0;
      for (int i = 0; i < kComparisons; ++i) {
        const Cell base = SimulatedCell(z, 20.0, 1, 0.0, tokens);
        const Cell cell = SimulatedCell(z, 20.0 * true_ratio, 1, 0.0, tokens);
        median_covered += base.tpot->median_ci.Contains(20.0);
        const Comparison c = CompareMeasurements(cell, base, 0.95, 0.02, 0.01);
        EXPECT_EQ(c.speed, SpeedVerdict::kWithinRunOnly);
        ratio_covered += c.ratio_ci.Contains(true_ratio);
      }
      // 1.5 points under 95%: over three binomial standard errors.
      EXPECT_GE(median_covered, kComparisons * 0.935) << tokens << " tokens";
      EXPECT_GE(ratio_covered, kComparisons * 0.935) << tokens << " tokens, ratio " << true_ratio;
    }
  }
}

}  // namespace
}  // namespace orch::report
