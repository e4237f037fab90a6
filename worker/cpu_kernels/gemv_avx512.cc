// The GEMV kernels (gemv_simd.h) for AVX-512 F + BW + VL (+ F16C) without VNNI: 16 fp32 lanes
// per vector.
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

#include "worker/cpu_kernels/gemv_avx512_ops.h"

struct Isa : Avx512Ops {
  // Without VNNI: u8 x s8 pairs to int16 (|15 * 128 * 2| fits, no saturation), pairs to int32.
  static constexpr bool kDotTakesAnyU8 = false;
  static VI DotU8S8(VI acc, VI u, VI s) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s),
                                                   _mm512_set1_epi16(1)));
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
