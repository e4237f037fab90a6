// x prepared for the int4 GEMV kernels (gemv_contract.h, Int4Activations in gemv_kernels.h):
// per row of x and group of K, the fp32 sum of x, and x as an exact 24-bit fixed point
// relative to the group's largest |x|, in three signed 8-bit limbs the kernels feed to
// integer dot products. A pure function of x (every ISA level sees the same limbs); O(m K)
// per call. Any thread; the buffer belongs to the caller.
#pragma once

#include <cstdint>
#include <vector>

#include "worker/cpu_kernels/gemv_kernels.h"

namespace orch::worker {

// Storage behind an Int4Activations; reused across calls (resized, never shrunk).
struct Int4ActivationBuffer {
  std::vector<float> group_sums, group_unit;
  std::vector<int8_t> limbs;
};

// Prepares m rows of x (row-major, k values each; k % group == 0). Per group with largest
// |x| = f 2^e (0.5 <= f < 1; e raised to -100 for tinier groups): X = round-to-nearest-even(
// x 2^(22 - e)), |X| <= 2^22, so |x - X 2^(e - 22)| <= 2^(e - 23) <= 2^-22 * max |x|. A
// group holding a NaN or an infinity gets unit NaN and zero limbs: its outputs are NaN.
Int4Activations PrepareInt4Activations(const float* x, int64_t m, int64_t k, int64_t group,
                                       Int4ActivationBuffer& buf);

// The view of rows row0, row0 + 1, ... of prepared activations of k values per row.
Int4Activations Int4ActivationRows(const Int4Activations& a, int64_t k, int64_t row0);

}  // namespace orch::worker
