// The GEMV kernels (gemv_simd.h) in portable C++, one lane: the fallback on CPUs without
// AVX2 (or not x86-64), and the plainest statement of the structure the vector levels share.
#include <cstdint>
#include <cstring>

#include "worker/cpu_kernels/gemv_kernels.h"

namespace orch::worker {
namespace {

constexpr const char* kIsaName = "portable";

float Bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// IEEE binary16 -> binary32, exact (subnormals, infinities and NaN included).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
  if (exp == 0x1F) return Bits(sign | 0x7F800000u | (mant << 13));
  if (exp != 0) return Bits(sign | ((exp + 112) << 23) | (mant << 13));
  const float sub = static_cast<float>(mant) * 5.9604644775390625e-8f;  // mant * 2^-24
  return sign ? -sub : sub;
}

struct Isa {
  using V = float;
  static constexpr int kLanes = 1;
  static V Zero() { return 0.f; }
  static V Set1(float v) { return v; }
  static V Fma(V a, V b, V c) { return a * b + c; }
  static V Add(V a, V b) { return a + b; }
  static float Sum(V v) { return v; }
  static void StoreF32(float* p, V v) { *p = v; }
  static V LoadF32(const float* p) { return *p; }
  static V LoadI8(const int8_t* p) { return static_cast<float>(*p); }
  static V LoadBf16(const uint16_t* p) { return Bits(static_cast<uint32_t>(*p) << 16); }
  static V LoadF16(const uint16_t* p) { return HalfToFloat(*p); }
  static V Mul(V a, V b) { return a * b; }
  // int4: one lane of 4 bytes.
  using VI = uint32_t;
  static VI ZeroI() { return 0; }
  static VI AddI(VI a, VI b) { return a + b; }  // two's complement: int32 addition
  static VI LoadI(const uint8_t* p) {
    VI v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static VI LowNibbles(VI v) { return v & 0x0F0F0F0Fu; }
  static VI HighNibbles(VI v) { return (v >> 4) & 0x0F0F0F0Fu; }
  static VI HighNibblesTimes16(VI v) { return v & 0xF0F0F0F0u; }
  static VI ShiftRight4I(VI v) { return static_cast<VI>(static_cast<int32_t>(v) >> 4); }
  static VI Broadcast4(const int8_t* p) {
    VI v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static constexpr bool kDotTakesAnyU8 = true;
  static VI DotU8S8(VI acc, VI u, VI s) {
    int32_t sum = static_cast<int32_t>(acc);
    for (int j = 0; j < 4; ++j)
      sum += static_cast<int32_t>((u >> (8 * j)) & 0xFF) *
             static_cast<int32_t>(static_cast<int8_t>((s >> (8 * j)) & 0xFF));
    return static_cast<VI>(sum);
  }
  static V ToF32(VI v) { return static_cast<float>(static_cast<int32_t>(v)); }
};

#include "worker/cpu_kernels/gemv_simd.h"

}  // namespace

const GemvKernels* PortableGemvKernels() { return &kKernels; }

}  // namespace orch::worker
