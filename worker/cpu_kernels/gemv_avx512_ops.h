// The AVX-512 (F, BW, VL + F16C) vector operations gemv_simd.h needs, 16 fp32 / int32 lanes,
// shared by gemv_avx512.cc and gemv_avx512_vnni.cc, which differ only in the int4 kernels'
// integer dot product (each adds DotU8S8). Like gemv_simd.h: included inside an anonymous
// namespace after the including file's `#pragma GCC target`, and includes nothing itself.

struct Avx512Ops {
  using V = __m512;
  using VI = __m512i;
  static constexpr int kLanes = 16;
  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float v) { return _mm512_set1_ps(v); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static float Sum(V v) { return _mm512_reduce_add_ps(v); }
  static void StoreF32(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V LoadF32(const float* p) { return _mm512_loadu_ps(p); }
  static V LoadI8(const int8_t* p) {
    return _mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static V LoadBf16(const uint16_t* p) {
    const __m512i u =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
  }
  static V LoadF16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static VI ZeroI() { return _mm512_setzero_si512(); }
  static VI AddI(VI a, VI b) { return _mm512_add_epi32(a, b); }
  static VI LoadI(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static VI LowNibbles(VI v) { return _mm512_and_si512(v, _mm512_set1_epi8(0x0F)); }
  static VI HighNibbles(VI v) {
    return _mm512_and_si512(_mm512_srli_epi32(v, 4), _mm512_set1_epi8(0x0F));
  }
  static VI HighNibblesTimes16(VI v) { return _mm512_and_si512(v, _mm512_set1_epi8(-16)); }
  static VI ShiftRight4I(VI v) { return _mm512_srai_epi32(v, 4); }
  static VI Broadcast4(const int8_t* p) {
    int32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
  }
  static V ToF32(VI v) { return _mm512_cvtepi32_ps(v); }
};
