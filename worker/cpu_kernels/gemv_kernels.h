// orch-worker's CPU GEMV kernels for decode (M = 1..kGemvMaxRows), in four instruction-set
// levels chosen at run time: AVX-512 F, BW, VL with VNNI (gemv_avx512_vnni.cc) and without
// (gemv_avx512.cc), AVX2 + FMA + F16C (gemv_avx2.cc) and portable C++ (gemv_portable.cc, the
// reference structure and the fallback on other CPUs). The int4 kernels' integer sums are
// exact at every level; the levels differ in fp32 rounding (FMA or not, order of sums) only.
// Layouts and scales: worker/quant/gemv_contract.h. Raw pointers only, no ATen: the callers
// (worker/quant/cpu_gemv.cc) split N across threads and convert dtypes. Every function
// computes the output rows [n_begin, n_end) for all M rows of x.
#pragma once

#include <cstdint>
#include <vector>

#include "worker/quant/gemv_contract.h"

namespace orch::worker {

struct GemvArgs {
  const float* x = nullptr;     // [m, k] row-major fp32
  int m = 1;                    // 1..kGemvMaxRows
  int64_t k = 0;
  int64_t n_begin = 0, n_end = 0;
  float* y = nullptr;           // y[i * ldy + n] for row i of x
  int64_t ldy = 0;
  const float* bias = nullptr;  // fp32 [N] added to every row, or null
  int64_t ldw = 0;              // dense kernels: weight row stride in elements (0: k)
};

// x prepared once per call for the int4 kernels (PrepareInt4Activations, int4_activations.h;
// the fixed point is described in gemv_contract.h). Row i of x starts at i * (k / group) in
// group_sums and group_unit and at i * 3 * k in limbs.
struct Int4Activations {
  int64_t group = 0;
  const float* group_sums = nullptr;  // [m, k / group]: fp32 sum of x over each group
  const float* group_unit = nullptr;  // [m, k / group]: 2^(e - 22), the value of X = 1
  const int8_t* limbs = nullptr;      // [m, 3, k]: X = limb0 * 2^16 + limb1 * 2^8 + limb2
};

struct GemvKernels {
  const char* name;
  void (*int8)(const GemvArgs&, const int8_t* q, const float* scale);
  void (*int4)(const GemvArgs&, const uint8_t* packed, const uint16_t* scale_zero,
               const Int4Activations&);
  void (*f32)(const GemvArgs&, const float* w);
  void (*bf16)(const GemvArgs&, const uint16_t* w);
  void (*f16)(const GemvArgs&, const uint16_t* w);
  // y[0, k) = sum over j < n of p[j] * w[j * ldw + (0, k)], fp32 (attention: probabilities
  // times the cached values, whose rows are ldw apart).
  void (*f32_weighted_rows)(const float* p, int64_t n, const float* w, int64_t ldw, int64_t k,
                            float* y);
};

enum class IsaLevel { kPortable, kAvx2, kAvx512, kAvx512Vnni };

// Levels this CPU can run, portable first.
std::vector<IsaLevel> SupportedIsaLevels();
// The level named by `requested` (portable|avx2|avx512|avx512vnni) among `supported`
// (SupportedIsaLevels' order, not empty), or the best of them when `requested` is null or
// empty. Throws std::invalid_argument naming ORCH_GEMV_ISA, the value and the valid levels
// when `requested` is not a level or not among `supported`.
IsaLevel ChooseIsaLevel(const char* requested, const std::vector<IsaLevel>& supported);
// ChooseIsaLevel(ORCH_GEMV_ISA, SupportedIsaLevels()), decided once per process (an error is
// thrown again on every call). Any thread.
IsaLevel ChosenIsaLevel();
const GemvKernels& GemvKernelsFor(IsaLevel level);
const char* IsaLevelName(IsaLevel level);

// The per-level tables (null when the build target has no such code, e.g. not x86-64).
const GemvKernels* PortableGemvKernels();
const GemvKernels* Avx2GemvKernels();
const GemvKernels* Avx512GemvKernels();
const GemvKernels* Avx512VnniGemvKernels();

}  // namespace orch::worker
