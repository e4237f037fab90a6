// PrepareInt4Activations (worker/cpu_kernels/int4_activations.h): the fixed point the int4
// kernels take x in -- each value within 2^-22 of its group's largest |x|, whatever the
// group's scale (tiny, huge, zero), limbs in range, fp32 group sums, NaN for non-finite groups.
#include "worker/cpu_kernels/int4_activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace orch::worker {
namespace {

double Reconstructed(const Int4Activations& a, int64_t k, int64_t row, int64_t i) {
  const int8_t* l = a.limbs + row * 3 * k;
  const double fixed = l[i] * 65536.0 + l[k + i] * 256.0 + l[2 * k + i];
  return fixed * a.group_unit[row * (k / a.group) + i / a.group];
}

TEST(Int4Activations, EveryValueIsWithin2ToMinus22OfItsGroupMax) {
  const int64_t k = 256;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  // Per group of 32, a scale from 2^-130 (below the clamp at 2^-100) to 2^100, and zeros.
  const std::vector<float> scales = {1.f, 1e-3f, 1e30f, 1e-35f, 0.f, 3.f, 1e-20f, 65536.f};
  for (int64_t group : {32, 64, 128}) {
    std::vector<float> x(2 * k);
    for (int64_t i = 0; i < 2 * k; ++i) x[i] = normal(rng) * scales[(i % k) / 32];
    Int4ActivationBuffer buf;
    const Int4Activations a = PrepareInt4Activations(x.data(), 2, k, group, buf);
    for (int64_t row = 0; row < 2; ++row)
      for (int64_t g = 0; g < k / group; ++g) {
        double max_abs = 0, sum = 0;
        for (int64_t i = g * group; i < (g + 1) * group; ++i) {
          max_abs = std::fmax(max_abs, std::fabs(x[row * k + i]));
          sum += x[row * k + i];
        }
        const double bound = std::fmax(max_abs * std::ldexp(1.0, -22), std::ldexp(1.0, -123));
        for (int64_t i = g * group; i < (g + 1) * group; ++i) {
          EXPECT_LE(std::fabs(Reconstructed(a, k, row, i) - x[row * k + i]), bound)
              << "group " << group << " row " << row << " i " << i;
          EXPECT_LE(std::abs(a.limbs[row * 3 * k + i]), 65);
        }
        EXPECT_NEAR(a.group_sums[row * (k / group) + g], sum, 1e-5 * (std::fabs(sum) + max_abs))
            << "group " << group << " row " << row << " g " << g;
      }
  }
}

TEST(Int4Activations, RowsViewStartsAtTheRowsOwnGroups) {
  const int64_t k = 64;
  std::vector<float> x(3 * k);
  for (int64_t i = 0; i < 3 * k; ++i) x[i] = static_cast<float>(i / k + 1);  // row r: all r+1
  Int4ActivationBuffer buf;
  const Int4Activations a = PrepareInt4Activations(x.data(), 3, k, 32, buf);
  const Int4Activations row2 = Int4ActivationRows(a, k, 2);
  EXPECT_FLOAT_EQ(row2.group_sums[1], 3.f * 32);
  EXPECT_DOUBLE_EQ(Reconstructed(row2, k, 0, 40), 3.0);
}

TEST(Int4Activations, NonFiniteGroupGetsNanUnitAndZeroLimbs) {
  const int64_t k = 64;
  std::vector<float> x(k, 1.f);
  x[40] = std::numeric_limits<float>::infinity();
  Int4ActivationBuffer buf;
  const Int4Activations a = PrepareInt4Activations(x.data(), 1, k, 32, buf);
  EXPECT_FALSE(std::isnan(a.group_unit[0]));
  EXPECT_TRUE(std::isnan(a.group_unit[1]));
  for (int64_t i = 32; i < k; ++i) EXPECT_EQ(a.limbs[i], 0);
}

}  // namespace
}  // namespace orch::worker
