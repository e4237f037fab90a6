// The GEMV kernels (gemv_simd.h) for AVX-512 F + BW + VL + VNNI (+ F16C): as gemv_avx512.cc,
// with the int4 kernels' 4-byte dot products in one vpdpbusd (Ice Lake, Zen 4 and later).
// Compiled for that target by `#pragma GCC target` (the rest of the build stays baseline
// x86-64); gemv_dispatch.cc calls it only when the CPU reports these features.
#include <cstdint>

#include "worker/cpu_kernels/gemv_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")
// GCC 12 warns inside its own _mm512_undefined_* intrinsics (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace orch::worker {
namespace {

constexpr const char* kIsaName = "avx512vnni";

#include "worker/cpu_kernels/gemv_avx512_ops.h"

struct Isa : Avx512Ops {
  static constexpr bool kDotTakesAnyU8 = true;
  static VI DotU8S8(VI acc, VI u, VI s) { return _mm512_dpbusd_epi32(acc, u, s); }
};

#include "worker/cpu_kernels/gemv_simd.h"

}  // namespace

const GemvKernels* Avx512VnniGemvKernels() { return &kKernels; }

}  // namespace orch::worker

#pragma GCC pop_options

#else
namespace orch::worker {
const GemvKernels* Avx512VnniGemvKernels() { return nullptr; }
}  // namespace orch::worker
#endif
