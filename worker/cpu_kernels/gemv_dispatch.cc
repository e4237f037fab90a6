// Run-time choice of the CPU GEMV level: what the CPU reports (__builtin_cpu_supports), the
// best first, unless ORCH_GEMV_ISA names a supported lower one (benchmarks, tests).
#include <cstdlib>
#include <string>

#include "worker/cpu_kernels/gemv_kernels.h"

namespace orch::worker {
namespace {

bool CpuHas(IsaLevel level) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  switch (level) {
    case IsaLevel::kPortable:
      return true;
    case IsaLevel::kAvx2:
      return Avx2GemvKernels() && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case IsaLevel::kAvx512:
      return Avx512GemvKernels() && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
    case IsaLevel::kAvx512Vnni:
      return Avx512VnniGemvKernels() && CpuHas(IsaLevel::kAvx512) &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return level == IsaLevel::kPortable;
#endif
}

IsaLevel Choose() {
  const std::vector<IsaLevel> levels = SupportedIsaLevels();
  if (const char* env = std::getenv("ORCH_GEMV_ISA")) {
    for (IsaLevel l : levels)
      if (std::string(env) == IsaLevelName(l)) return l;
  }
  return levels.back();
}

}  // namespace

std::vector<IsaLevel> SupportedIsaLevels() {
  std::vector<IsaLevel> out;
  for (IsaLevel l :
       {IsaLevel::kPortable, IsaLevel::kAvx2, IsaLevel::kAvx512, IsaLevel::kAvx512Vnni})
    if (CpuHas(l)) out.push_back(l);
  return out;
}

IsaLevel ChosenIsaLevel() {
  static const IsaLevel level = Choose();
  return level;
}

const GemvKernels& GemvKernelsFor(IsaLevel level) {
  switch (level) {
    case IsaLevel::kAvx512Vnni:
      if (CpuHas(level)) return *Avx512VnniGemvKernels();
      break;
    case IsaLevel::kAvx512:
      if (CpuHas(level)) return *Avx512GemvKernels();
      break;
    case IsaLevel::kAvx2:
      if (CpuHas(level)) return *Avx2GemvKernels();
      break;
    case IsaLevel::kPortable:
      break;
  }
  return *PortableGemvKernels();
}

const char* IsaLevelName(IsaLevel level) {
  switch (level) {
    case IsaLevel::kAvx512Vnni:
      return "avx512vnni";
    case IsaLevel::kAvx512:
      return "avx512";
    case IsaLevel::kAvx2:
      return "avx2";
    case IsaLevel::kPortable:
      return "portable";
  }
  return "portable";
}

}  // namespace orch::worker
