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
  static void LoadInt4Block(const uint8_t* p, V (&out)[32]) {
    for (int j = 0; j < 16; ++j) {
      out[j] = static_cast<float>(p[j] & 0xF);
      out[j + 16] = static_cast<float>(p[j] >> 4);
    }
  }
};

#include "worker/cpu_kernels/gemv_simd.h"

}  // namespace

const GemvKernels* PortableGemvKernels() { return &kKernels; }

}  // namespace orch::worker
