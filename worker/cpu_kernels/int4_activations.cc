#include "worker/cpu_kernels/int4_activations.h"

#include <bit>
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
int32_t RoundToInt(float v) { return std::bit_cast<int32_t>(v + 12582912.0f) - 0x4B400000; }

// One group of g values (a multiple of 32): its sum, unit and limbs (limbs[0 .. g) for limb
// 0, then limb 1 at limbs + k, limb 2 at limbs + 2 k). Written in chunks of 32 with 8
// partial sums and integer compares so that the baseline build vectorizes it (~1 ns per value
// instead of ~4.5 with one serial fp32 sum, fmax and frexp: ~22k values per Pythia-70M step).
void PrepareGroup(const float* x, int64_t g, int64_t k, float* sum, float* unit, int8_t* limbs) {
  constexpr int kChunk = 32;
  float part[8] = {};
  uint32_t max_bits[8] = {};  // |x| as bits: ordered like |x| for non-NaN, inf = 0x7F800000
  for (int64_t c = 0; c < g; c += kChunk)
    for (int i = 0; i < kChunk; i += 8)
      for (int j = 0; j < 8; ++j) {
        const float v = x[c + i + j];
        part[j] += v;
        uint32_t b;
        std::memcpy(&b, &v, sizeof b);
        b &= 0x7FFFFFFFu;
        max_bits[j] = b > max_bits[j] ? b : max_bits[j];
      }
  *sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  uint32_t top = 0;
  for (uint32_t b : max_bits) top = b > top ? b : top;
  if (top >= 0x7F800000u) {  // an infinity or a NaN
    *unit = std::numeric_limits<float>::quiet_NaN();
    for (int l = 0; l < 3; ++l) std::memset(limbs + l * k, 0, static_cast<size_t>(g));
    return;
  }
  // max |x| = f 2^e with 0.5 <= f < 1: e = biased exponent - 126 (zero and subnormals: below
  // the clamp).
  int e = static_cast<int>(top >> 23) - 126;
  if (e < -100) e = -100;  // keeps 2^(e - 22) and 2^(22 - e) normal floats
  *unit = PowerOfTwo(e - 22);
  const float scale = PowerOfTwo(22 - e);
  for (int64_t c = 0; c < g; c += kChunk)
    for (int i = 0; i < kChunk; ++i) {
      const int32_t v = RoundToInt(x[c + i] * scale);  // exact product: a power of two
      // Balanced base-256 digits: v = l0 2^16 + l1 2^8 + l2, l1, l2 in [-128, 127], |l0| <= 65
      // (the shifts divide exactly: the low bits are zero).
      const int32_t l2 = ((v + 128) & 0xFF) - 128;
      const int32_t v1 = (v - l2) >> 8;
      const int32_t l1 = ((v1 + 128) & 0xFF) - 128;
      limbs[c + i] = static_cast<int8_t>((v1 - l1) >> 8);
      limbs[k + c + i] = static_cast<int8_t>(l1);
      limbs[2 * k + c + i] = static_cast<int8_t>(l2);
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
