#include "worker/cpu_kernels/int4_activations.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace orch::worker {
namespace {

// 2^p as a float, for p in [-126, 127] (built from the exponent bits: exact, no libm call).
float PowerOfTwo(int p) {
  const uint32_t bits = static_cast<uint32_t>(p + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// round-to-nearest-even(v) for |v| <= 2^22: adding 1.5 * 2^23 leaves the rounded integer in
// the low mantissa bits (fp32 addition rounds to nearest even; no -ffast-math in this build).
int32_t RoundToInt(float v) {
  const float t = v + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return bits - 0x4B400000;
}

// One group of g values: its sum, unit and limbs (limbs[0 .. g) for limb 0, then limb 1 at
// limbs + k, limb 2 at limbs + 2 k).
void PrepareGroup(const float* x, int64_t g, int64_t k, float* sum, float* unit, int8_t* limbs) {
  float s = 0.f, max_abs = 0.f;
  bool finite = true;
  for (int64_t i = 0; i < g; ++i) {
    s += x[i];
    max_abs = std::fmax(max_abs, std::fabs(x[i]));
    finite = finite && std::isfinite(x[i]);
  }
  *sum = s;
  if (!finite) {
    *unit = std::numeric_limits<float>::quiet_NaN();
    for (int l = 0; l < 3; ++l) std::memset(limbs + l * k, 0, static_cast<size_t>(g));
    return;
  }
  int e = 0;
  if (max_abs > 0.f) std::frexp(max_abs, &e);
  if (e < -100) e = -100;  // keeps 2^(e - 22) and 2^(22 - e) normal floats
  *unit = PowerOfTwo(e - 22);
  const float scale = PowerOfTwo(22 - e);
  for (int64_t i = 0; i < g; ++i) {
    const int32_t v = RoundToInt(x[i] * scale);  // exact product: scale is a power of two
    // Balanced base-256 digits: v = l0 * 2^16 + l1 * 2^8 + l2, l1, l2 in [-128, 127], |l0| <= 65.
    const int32_t l2 = ((v + 128) & 0xFF) - 128;
    const int32_t v1 = (v - l2) / 256;
    const int32_t l1 = ((v1 + 128) & 0xFF) - 128;
    const int32_t l0 = (v1 - l1) / 256;
    limbs[i] = static_cast<int8_t>(l0);
    limbs[k + i] = static_cast<int8_t>(l1);
    limbs[2 * k + i] = static_cast<int8_t>(l2);
  }
}

}  // namespace

Int4Activations PrepareInt4Activations(const float* x, int64_t m, int64_t k, int64_t group,
                                       Int4ActivationBuffer& buf) {
  const int64_t groups = k / group;
  buf.group_sums.resize(static_cast<size_t>(m * groups));
  buf.group_unit.resize(static_cast<size_t>(m * groups));
  buf.limbs.resize(static_cast<size_t>(m * 3 * k));
  for (int64_t r = 0; r < m; ++r)
    for (int64_t g = 0; g < groups; ++g)
      PrepareGroup(x + r * k + g * group, group, k, &buf.group_sums[r * groups + g],
                   &buf.group_unit[r * groups + g], &buf.limbs[r * 3 * k + g * group]);
  Int4Activations a;
  a.group = group;
  a.group_sums = buf.group_sums.data();
  a.group_unit = buf.group_unit.data();
  a.limbs = buf.limbs.data();
  return a;
}

Int4Activations Int4ActivationRows(const Int4Activations& a, int64_t k, int64_t row0) {
  const int64_t groups = k / a.group;
  Int4Activations out = a;
  out.group_sums += row0 * groups;
  out.group_unit += row0 * groups;
  out.limbs += row0 * 3 * k;
  return out;
}

}  // namespace orch::worker
