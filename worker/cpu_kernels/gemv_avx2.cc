// The GEMV kernels (gemv_simd.h) for AVX2 + FMA + F16C: 8 fp32 lanes per vector. Compiled
// for that target by `#pragma GCC target`; gemv_dispatch.cc calls it only when the CPU
// reports these features.
#include <cstdint>

#include "worker/cpu_kernels/gemv_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace orch::worker {
namespace {

constexpr const char* kIsaName = "avx2";

struct Isa {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V Zero() { return _mm256_setzero_ps(); }
  static V Set1(float v) { return _mm256_set1_ps(v); }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static float Sum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static void StoreF32(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V LoadF32(const float* p) { return _mm256_loadu_ps(p); }
  static V LoadI8(const int8_t* p) {
    return _mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static V LoadBf16(const uint16_t* p) {
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
  }
  static V LoadF16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
  using VI = __m256i;
  static VI ZeroI() { return _mm256_setzero_si256(); }
  static VI AddI(VI a, VI b) { return _mm256_add_epi32(a, b); }
  static VI LoadI(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static VI LowNibbles(VI v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
  static VI HighNibbles(VI v) {
    return _mm256_and_si256(_mm256_srli_epi32(v, 4), _mm256_set1_epi8(0x0F));
  }
  static VI HighNibblesTimes16(VI v) { return _mm256_and_si256(v, _mm256_set1_epi8(-16)); }
  static VI ShiftRight4I(VI v) { return _mm256_srai_epi32(v, 4); }
  static VI Broadcast4(const int8_t* p) {
    int32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
  }
  static constexpr bool kDotTakesAnyU8 = false;
  // u8 x s8 pairs to int16 (|2 * 15 * 128| fits, no saturation), pairs of those to int32.
  static VI DotU8S8(VI acc, VI u, VI s) {
    return _mm256_add_epi32(acc,
                            _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
  }
  static V ToF32(VI v) { return _mm256_cvtepi32_ps(v); }
};

#include "worker/cpu_kernels/gemv_simd.h"

}  // namespace

const GemvKernels* Avx2GemvKernels() { return &kKernels; }

}  // namespace orch::worker

#pragma GCC pop_options

#else
namespace orch::worker {
const GemvKernels* Avx2GemvKernels() { return nullptr; }
}  // namespace orch::worker
#endif
