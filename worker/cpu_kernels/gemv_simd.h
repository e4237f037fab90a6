// The body of the CPU GEMV kernels, written once against a vector type `Isa` that each
// including file defines before including this one (gemv_avx512.cc: 16 fp32 lanes,
// gemv_avx2.cc: 8 lanes, gemv_portable.cc: 1 lane). Included inside an anonymous namespace,
// after the file's `#pragma GCC target`, so each instruction-set level gets its own
// internal copy (no ODR clash between copies, no AVX code reachable without dispatch).
// Includes nothing itself: every header comes before the target pragma.
//
// Isa provides: V, kLanes, Zero(), Set1(f), Fma(a, b, c) = a * b + c, Add(a, b), Sum(v),
// LoadF32(p), LoadI8(p), LoadBf16(p), LoadF16(p) (kLanes values, widened to fp32), StoreF32(p, v),
// Mul(a, b); for int4, an int32 vector VI of kLanes lanes of 4 bytes each: ZeroI(), AddI,
// LoadI(p) (4 kLanes bytes), LowNibbles / HighNibbles / HighNibblesTimes16 (each byte & 15,
// >> 4, & 0xF0), ShiftRight4I (int32 >> 4, arithmetic), Broadcast4(p)
// (4 bytes into every lane), DotU8S8(acc, u, s) (acc + sum of the 4 products u8 x s8 per
// lane, exact for u8 <= 15; for any u8 when kDotTakesAnyU8) and ToF32 (int32 -> fp32).
//
// Structure of the dense kernels (gemv_contract.h): per call, R output rows at a time share every load of x; each
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

// int4 (gemv_contract.h): one tile of 16 output rows (TV = 16 / kLanes vectors) per pass.
// Per group: int32 sums of q X per (x row, limb, lane) by integer dot products of 4 u8
// nibbles with 4 s8 limbs -- exact, no overflow (|sum| <= 128 * 240 * 128 < 2^22) -- then per
// group and x row: T = sum0 2^16 + sum1 2^8 + sum2 in fp32, acc += T * (s * unit) + z' * sum x,
// where s and zero are read as fp16 and widened in registers and z' = zero - 8 s (one fp32
// rounding at every level: 8 s is exact).
// With M <= 2 at 16 lanes, the low and high nibbles feed separate sums (NH = 2): six
// independent dot-product chains cover the instruction's latency.
template <int M>
inline void Int4Tile(const GemvArgs& a, const uint8_t* packed, const uint16_t* scale_zero,
                     const Int4Activations& x, int64_t t) {
  constexpr int L = Isa::kLanes, TV = static_cast<int>(kInt4TileRows) / L;
  constexpr int NH = M <= 2 && TV == 1 ? 2 : 1;
  // With separate high-nibble sums and a dot product that takes any u8 (VNNI: no int16
  // saturation), the high nibbles go in as 16 q (a mask, no shift: vector shifts share the
  // dot product's port) and each group's sum is shifted back once (exact).
  constexpr bool kHighTimes16 = NH == 2 && Isa::kDotTakesAnyU8;
  constexpr int kStepBytes = 64, kLaneBytes = 4 * L;
  using VI = typename Isa::VI;
  const int64_t k = a.k, group = x.group, groups = k / group;
  const uint8_t* w = packed + t * (k / kInt4StepK) * kStepBytes;
  const uint16_t* sz = scale_zero + t * groups * 2 * kInt4TileRows;
  V acc[M][TV];
  ORCH_UNROLL
  for (int m = 0; m < M; ++m)
    ORCH_UNROLL
    for (int v = 0; v < TV; ++v) acc[m][v] = Isa::Zero();
  for (int64_t g = 0; g < groups; ++g) {
    VI c[M][3][NH][TV];
    ORCH_UNROLL
    for (int m = 0; m < M; ++m)
      ORCH_UNROLL
      for (int l = 0; l < 3; ++l)
        ORCH_UNROLL
        for (int h = 0; h < NH; ++h)
          ORCH_UNROLL
          for (int v = 0; v < TV; ++v) c[m][l][h][v] = Isa::ZeroI();
    for (int64_t kk = g * group; kk < (g + 1) * group; kk += kInt4StepK) {
      const uint8_t* step = w + (kk / kInt4StepK) * kStepBytes;
      // The tiles are one linear stream: prefetch 16 steps (1 KiB) ahead into L2.
      __builtin_prefetch(step + 16 * kStepBytes, 0, 2);
      VI lo[TV], hi[TV];
      ORCH_UNROLL
      for (int v = 0; v < TV; ++v) {
        const VI raw = Isa::LoadI(step + v * kLaneBytes);
        lo[v] = Isa::LowNibbles(raw);
        hi[v] = kHighTimes16 ? Isa::HighNibblesTimes16(raw) : Isa::HighNibbles(raw);
      }
      ORCH_UNROLL
      for (int m = 0; m < M; ++m)
        ORCH_UNROLL
        for (int l = 0; l < 3; ++l) {
          const int8_t* xl = x.limbs + (m * 3 + l) * k + kk;
          const VI x_lo = Isa::Broadcast4(xl), x_hi = Isa::Broadcast4(xl + 4);
          ORCH_UNROLL
          for (int v = 0; v < TV; ++v) {
            c[m][l][0][v] = Isa::DotU8S8(c[m][l][0][v], lo[v], x_lo);
            c[m][l][NH - 1][v] = Isa::DotU8S8(c[m][l][NH - 1][v], hi[v], x_hi);
          }
        }
    }
    const uint16_t* s = sz + g * 2 * kInt4TileRows;
    V sv[TV], zv[TV];
    ORCH_UNROLL
    for (int v = 0; v < TV; ++v) {
      sv[v] = Isa::LoadF16(s + v * L);
      zv[v] = Isa::Fma(sv[v], Isa::Set1(-8.f), Isa::LoadF16(s + kInt4TileRows + v * L));
    }
    ORCH_UNROLL
    for (int m = 0; m < M; ++m) {
      const V unit = Isa::Set1(x.group_unit[m * groups + g]);
      const V xsum = Isa::Set1(x.group_sums[m * groups + g]);
      ORCH_UNROLL
      for (int v = 0; v < TV; ++v) {
        VI ci[3];
        ORCH_UNROLL
        for (int l = 0; l < 3; ++l)
          ci[l] = NH == 1         ? c[m][l][0][v]
                  : kHighTimes16 ? Isa::AddI(c[m][l][0][v], Isa::ShiftRight4I(c[m][l][1][v]))
                                 : Isa::AddI(c[m][l][0][v], c[m][l][1][v]);
        V sum = Isa::Fma(Isa::ToF32(ci[0]), Isa::Set1(256.f), Isa::ToF32(ci[1]));
        sum = Isa::Fma(sum, Isa::Set1(256.f), Isa::ToF32(ci[2]));
        acc[m][v] = Isa::Fma(sum, Isa::Mul(sv[v], unit), acc[m][v]);
        acc[m][v] = Isa::Fma(zv[v], xsum, acc[m][v]);
      }
    }
  }
  // Only the tile's rows inside [n_begin, n_end) are written (a split may cut a tile).
  const int64_t n0 = t * kInt4TileRows;
  const int64_t r_begin = a.n_begin > n0 ? a.n_begin - n0 : 0;
  const int64_t r_end = a.n_end - n0 < kInt4TileRows ? a.n_end - n0 : kInt4TileRows;
  ORCH_UNROLL
  for (int m = 0; m < M; ++m) {
    float out[kInt4TileRows];
    ORCH_UNROLL
    for (int v = 0; v < TV; ++v) Isa::StoreF32(out + v * L, acc[m][v]);
    for (int64_t r = r_begin; r < r_end; ++r)
      a.y[m * a.ldy + n0 + r] = out[r] + (a.bias ? a.bias[n0 + r] : 0.f);
  }
}

template <int M>
void Int4RowsM(const GemvArgs& a, const uint8_t* packed, const uint16_t* sz,
               const Int4Activations& x) {
  const int64_t t_end = (a.n_end + kInt4TileRows - 1) / kInt4TileRows;
  for (int64_t t = a.n_begin / kInt4TileRows; t < t_end; ++t) Int4Tile<M>(a, packed, sz, x, t);
}

void Int4Rows(const GemvArgs& a, const uint8_t* packed, const uint16_t* sz,
              const Int4Activations& x) {
  switch (a.m) {
    case 1: Int4RowsM<1>(a, packed, sz, x); break;
    case 2: Int4RowsM<2>(a, packed, sz, x); break;
    case 3: Int4RowsM<3>(a, packed, sz, x); break;
    case 4: Int4RowsM<4>(a, packed, sz, x); break;
    case 5: Int4RowsM<5>(a, packed, sz, x); break;
    case 6: Int4RowsM<6>(a, packed, sz, x); break;
    case 7: Int4RowsM<7>(a, packed, sz, x); break;
    default: Int4RowsM<8>(a, packed, sz, x); break;
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
