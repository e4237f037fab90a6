// The GEMV kernels (gemv_simd.h) for AVX-512 F + BW + VL (+ F16C): 16 fp32 lanes per vector.
// Compiled for that target by `#pragma GCC target` (the rest of the build stays baseline
// x86-64); gemv_dispatch.cc calls it only when the CPU reports these features.
#include <cstdint>

#include "worker/cpu_kernels/gemv_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
// GCC 12 warns inside its own _mm512_undefined_* intrinsics (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace orch::worker {
namespace {

constexpr const char* kIsaName = "avx512";

struct Isa {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float v) { return _mm512_set1_ps(v); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static float Sum(V v) { return _mm512_reduce_add_ps(v); }
  static void StoreF32(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V LoadF32(const float* p) { return _mm512_loadu_ps(p); }
  static V LoadI8(const int8_t* p) {
    return _mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static V LoadBf16(const uint16_t* p) {
    const __m512i u = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
  }
  static V LoadF16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  // 16 bytes: byte j = value j (low nibble) and value j + 16 (high nibble).
  static void LoadInt4Block(const uint8_t* p, V (&out)[2]) {
    const __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    out[0] = _mm512_cvtepi32_ps(_mm512_and_si512(b, _mm512_set1_epi32(0xF)));
    out[1] = _mm512_cvtepi32_ps(_mm512_srli_epi32(b, 4));
  }
};

#include "worker/cpu_kernels/gemv_simd.h"

}  // namespace

const GemvKernels* Avx512GemvKernels() { return &kKernels; }

}  // namespace orch::worker

#pragma GCC pop_options

#else
namespace orch::worker {
const GemvKernels* Avx512GemvKernels() { return nullptr; }
}  // namespace orch::worker
#endif
