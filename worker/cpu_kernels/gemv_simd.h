// The body of the CPU GEMV kernels, written once against a vector type `Isa` that each
// including file defines before including this one (gemv_avx512.cc: 16 fp32 lanes,
// gemv_avx2.cc: 8 lanes, gemv_portable.cc: 1 lane). Included inside an anonymous namespace,
// after the file's `#pragma GCC target`, so each instruction-set level gets its own
// internal copy (no ODR clash between copies, no AVX code reachable without dispatch).
// Includes nothing itself: every header comes before the target pragma.
//
// Isa provides: V, kLanes, Zero(), Set1(f), Fma(a, b, c) = a * b + c, Add(a, b), Sum(v),
// LoadF32(p), LoadI8(p), LoadBf16(p), LoadF16(p) (kLanes values, widened to fp32), StoreF32(p, v),
// LoadInt4Block(p, out) (16 bytes -> 32 values in order, as 32 / kLanes vectors) and the
// scalar widenings Bf16ToF32(u), F16ToF32(u).
//
// Structure (gemv_contract.h): per call, R output rows at a time share every load of x; each
// of the R x M accumulators is an independent FMA chain (R = 4 for M <= 2, 2 for M <= 4, 1
// above, so chains x lanes cover the FMA latency and registers suffice); a K tail (K % kLanes)
// goes through zero-padded stack copies; the sum of a vector, the scale and the bias are
// applied once per output; the weights are prefetched into L2 two blocks ahead. Loops over
// R, M and a block's vectors are fully unrolled.

using V = Isa::V;

// Loops over R, M and the vectors of a block have compile-time trip counts; unrolled fully
// (also at -O2) so the accumulator arrays live in registers, not on the stack.
#define ORCH_UNROLL _Pragma("GCC unroll 32")

struct KindI8 {
  using T = int8_t;
  static V Load(const T* p) { return Isa::LoadI8(p); }
};
struct KindF32 {
  using T = float;
  static V Load(const T* p) { return Isa::LoadF32(p); }
};
struct KindBf16 {
  using T = uint16_t;
  static V Load(const T* p) { return Isa::LoadBf16(p); }
};
struct KindF16 {
  using T = uint16_t;
  static V Load(const T* p) { return Isa::LoadF16(p); }
};

template <int M>
constexpr int RowsPerBlock() {
  return M <= 2 ? 4 : M <= 4 ? 2 : 1;
}

template <int M, int R>
inline void StoreRows(const GemvArgs& a, int64_t n0, const float (&sums)[R][M],
                      const float* scale) {
  ORCH_UNROLL
  for (int r = 0; r < R; ++r) {
    const int64_t n = n0 + r;
    const float s = scale ? scale[n] : 1.f;
    const float b = a.bias ? a.bias[n] : 0.f;
    ORCH_UNROLL
    for (int m = 0; m < M; ++m) a.y[m * a.ldy + n] = sums[r][m] * s + b;
  }
}

// Rows n0 .. n0 + R - 1 of a dense (fp32, 16-bit or int8) weight; `scale` per row or null.
template <class Kind, int M, int R>
inline void DenseBlock(const GemvArgs& a, const typename Kind::T* w, const float* scale,
                       int64_t n0) {
  constexpr int L = Isa::kLanes;
  const int64_t k = a.k, kv = k - k % L;
  V acc[R][M];
  ORCH_UNROLL
  for (int r = 0; r < R; ++r)
    ORCH_UNROLL
    for (int m = 0; m < M; ++m) acc[r][m] = Isa::Zero();
  const int64_t ldw = a.ldw ? a.ldw : k;
  const typename Kind::T* row[R];
  ORCH_UNROLL
  for (int r = 0; r < R; ++r) row[r] = w + (n0 + r) * ldw;
  // The weight stream is linear (a block's rows are contiguous): prefetch two blocks ahead
  // into L2, once per cache line, so short rows (int8, K = 512: 512 bytes) keep DRAM busy.
  const int64_t ahead = 2 * R * ldw * static_cast<int64_t>(sizeof(typename Kind::T));
  for (int64_t kk = 0; kk < kv; kk += L) {
    if ((kk * static_cast<int64_t>(sizeof(typename Kind::T))) % 64 == 0) {
      ORCH_UNROLL
      for (int r = 0; r < R; ++r)
        __builtin_prefetch(reinterpret_cast<const char*>(row[r] + kk) + ahead, 0, 2);
    }
    V wv[R];
    ORCH_UNROLL
    for (int r = 0; r < R; ++r) wv[r] = Kind::Load(row[r] + kk);
    ORCH_UNROLL
    for (int m = 0; m < M; ++m) {
      const V xv = Isa::LoadF32(a.x + m * k + kk);
      ORCH_UNROLL
      for (int r = 0; r < R; ++r) acc[r][m] = Isa::Fma(wv[r], xv, acc[r][m]);
    }
  }
  if (kv < k) {
    const int64_t t = k - kv;
    ORCH_UNROLL
    for (int r = 0; r < R; ++r) {
      typename Kind::T wb[L] = {};
      for (int64_t i = 0; i < t; ++i) wb[i] = row[r][kv + i];
      const V wv = Kind::Load(wb);
      ORCH_UNROLL
      for (int m = 0; m < M; ++m) {
        float xb[L] = {};
        for (int64_t i = 0; i < t; ++i) xb[i] = a.x[m * k + kv + i];
        acc[r][m] = Isa::Fma(wv, Isa::LoadF32(xb), acc[r][m]);
      }
    }
  }
  float sums[R][M];
  ORCH_UNROLL
  for (int r = 0; r < R; ++r)
    ORCH_UNROLL
    for (int m = 0; m < M; ++m) sums[r][m] = Isa::Sum(acc[r][m]);
  StoreRows<M, R>(a, n0, sums, scale);
}

template <class Kind, int M>
void DenseRowsM(const GemvArgs& a, const typename Kind::T* w, const float* scale) {
  constexpr int R = RowsPerBlock<M>();
  int64_t n = a.n_begin;
  for (; n + R <= a.n_end; n += R) DenseBlock<Kind, M, R>(a, w, scale, n);
  for (; n < a.n_end; ++n) DenseBlock<Kind, M, 1>(a, w, scale, n);
}

template <class Kind>
void DenseRows(const GemvArgs& a, const typename Kind::T* w, const float* scale) {
  switch (a.m) {
    case 1: DenseRowsM<Kind, 1>(a, w, scale); break;
    case 2: DenseRowsM<Kind, 2>(a, w, scale); break;
    case 3: DenseRowsM<Kind, 3>(a, w, scale); break;
    case 4: DenseRowsM<Kind, 4>(a, w, scale); break;
    case 5: DenseRowsM<Kind, 5>(a, w, scale); break;
    case 6: DenseRowsM<Kind, 6>(a, w, scale); break;
    case 7: DenseRowsM<Kind, 7>(a, w, scale); break;
    default: DenseRowsM<Kind, 8>(a, w, scale); break;
  }
}

// int4: rows n0 .. n0 + R - 1. Per group, one partial sum per (row, x row, vector of the
// 32-value block) -- independent chains -- then acc += partial * s_g; the z'_g * sum(x over
// g) term is scalar, from the caller's group sums.
template <int M, int R>
inline void Int4Block(const GemvArgs& a, const uint8_t* packed, const float* sz,
                      const Int4Extra& ex, int64_t n0) {
  constexpr int L = Isa::kLanes, NV = static_cast<int>(kInt4BlockK) / L;
  const int64_t k = a.k, g_size = ex.group, groups = k / g_size, half = k / 2;
  V acc[R][M];
  float zsum[R][M];
  ORCH_UNROLL
  for (int r = 0; r < R; ++r)
    ORCH_UNROLL
    for (int m = 0; m < M; ++m) {
      acc[r][m] = Isa::Zero();
      zsum[r][m] = 0.f;
    }
  for (int64_t g = 0; g < groups; ++g) {
    V part[R][M][NV];
    ORCH_UNROLL
    for (int r = 0; r < R; ++r)
      ORCH_UNROLL
      for (int m = 0; m < M; ++m)
        ORCH_UNROLL
        for (int v = 0; v < NV; ++v) part[r][m][v] = Isa::Zero();
    for (int64_t kk = g * g_size; kk < (g + 1) * g_size; kk += kInt4BlockK) {
      if ((kk / 2) % 64 == 0) {  // as DenseBlock: two blocks of rows ahead, once per line
        ORCH_UNROLL
        for (int r = 0; r < R; ++r)
          __builtin_prefetch(packed + (n0 + r) * half + kk / 2 + 2 * R * half, 0, 2);
      }
      V wv[R][NV];
      ORCH_UNROLL
      for (int r = 0; r < R; ++r) Isa::LoadInt4Block(packed + (n0 + r) * half + kk / 2, wv[r]);
      ORCH_UNROLL
      for (int m = 0; m < M; ++m)
        ORCH_UNROLL
        for (int v = 0; v < NV; ++v) {
          const V xv = Isa::LoadF32(a.x + m * k + kk + v * L);
          ORCH_UNROLL
          for (int r = 0; r < R; ++r) part[r][m][v] = Isa::Fma(wv[r][v], xv, part[r][m][v]);
        }
    }
    ORCH_UNROLL
    for (int r = 0; r < R; ++r) {
      const float* p = sz + ((n0 + r) * groups + g) * 2;
      const V s = Isa::Set1(p[0]);
      ORCH_UNROLL
      for (int m = 0; m < M; ++m) {
        V t = part[r][m][0];
        ORCH_UNROLL
        for (int v = 1; v < NV; ++v) t = Isa::Add(t, part[r][m][v]);
        acc[r][m] = Isa::Fma(t, s, acc[r][m]);
        zsum[r][m] += p[1] * ex.x_group_sums[m * groups + g];
      }
    }
  }
  float sums[R][M];
  ORCH_UNROLL
  for (int r = 0; r < R; ++r)
    ORCH_UNROLL
    for (int m = 0; m < M; ++m) sums[r][m] = Isa::Sum(acc[r][m]) + zsum[r][m];
  StoreRows<M, R>(a, n0, sums, nullptr);
}

// Rows per block: as many as the registers hold (R x M x NV partial sums plus R x NV unpacked
// weight vectors): with 16-lane vectors (NV = 2) 4 rows at M = 1 and 2 at M = 2 -- 4 rows
// instead of 2 made the Pythia-70M int4 step 1.2-1.3x faster (docs/benchmarks.md,
// 2026-12-05); with 8 lanes (NV = 4, 16 registers) 2 rows at M = 1.
template <int M>
void Int4RowsM(const GemvArgs& a, const uint8_t* packed, const float* sz, const Int4Extra& ex) {
  constexpr int NV = static_cast<int>(kInt4BlockK) / Isa::kLanes;
  constexpr int R = M == 1 ? (NV <= 2 ? 4 : 2) : (M == 2 && NV <= 2 ? 2 : 1);
  int64_t n = a.n_begin;
  for (; n + R <= a.n_end; n += R) Int4Block<M, R>(a, packed, sz, ex, n);
  for (; n < a.n_end; ++n) Int4Block<M, 1>(a, packed, sz, ex, n);
}

void Int4Rows(const GemvArgs& a, const uint8_t* packed, const float* sz, const Int4Extra& ex) {
  switch (a.m) {
    case 1: Int4RowsM<1>(a, packed, sz, ex); break;
    case 2: Int4RowsM<2>(a, packed, sz, ex); break;
    case 3: Int4RowsM<3>(a, packed, sz, ex); break;
    case 4: Int4RowsM<4>(a, packed, sz, ex); break;
    case 5: Int4RowsM<5>(a, packed, sz, ex); break;
    case 6: Int4RowsM<6>(a, packed, sz, ex); break;
    case 7: Int4RowsM<7>(a, packed, sz, ex); break;
    default: Int4RowsM<8>(a, packed, sz, ex); break;
  }
}

void Int8Rows(const GemvArgs& a, const int8_t* q, const float* scale) {
  DenseRows<KindI8>(a, q, scale);
}
void F32Rows(const GemvArgs& a, const float* w) { DenseRows<KindF32>(a, w, nullptr); }
void Bf16Rows(const GemvArgs& a, const uint16_t* w) { DenseRows<KindBf16>(a, w, nullptr); }
void F16Rows(const GemvArgs& a, const uint16_t* w) { DenseRows<KindF16>(a, w, nullptr); }

// Four rows of w per pass share each load and store of the kLanes-wide running sum.
void F32WeightedRows(const float* p, int64_t n, const float* w, int64_t ldw, int64_t k, float* y) {
  constexpr int L = Isa::kLanes;
  const int64_t kv = k - k % L;
  for (int64_t kk = 0; kk < kv; kk += L) {
    V acc[4] = {Isa::Zero(), Isa::Zero(), Isa::Zero(), Isa::Zero()};
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
      ORCH_UNROLL
      for (int r = 0; r < 4; ++r)
        acc[r] = Isa::Fma(Isa::Set1(p[j + r]), Isa::LoadF32(w + (j + r) * ldw + kk), acc[r]);
    for (; j < n; ++j) acc[0] = Isa::Fma(Isa::Set1(p[j]), Isa::LoadF32(w + j * ldw + kk), acc[0]);
    Isa::StoreF32(y + kk, Isa::Add(Isa::Add(acc[0], acc[1]), Isa::Add(acc[2], acc[3])));
  }
  for (int64_t kk = kv; kk < k; ++kk) {
    float s = 0.f;
    for (int64_t j = 0; j < n; ++j) s += p[j] * w[j * ldw + kk];
    y[kk] = s;
  }
}

#undef ORCH_UNROLL

const GemvKernels kKernels = {kIsaName, Int8Rows,  Int4Rows,       F32Rows,
                              Bf16Rows, F16Rows,   F32WeightedRows};
