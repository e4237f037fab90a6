// Run-time choice of the CPU GEMV level: what the CPU reports (__builtin_cpu_supports), the
// best first, unless ORCH_GEMV_ISA names a supported lower one (benchmarks, tests); any
// other value of ORCH_GEMV_ISA is an error, never a silent fallback.
#include <cstdlib>
#include <stdexcept>
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

}  // namespace

std::vector<IsaLevel> SupportedIsaLevels() {
  std::vector<IsaLevel> out;
  for (IsaLevel l :
       {IsaLevel::kPortable, IsaLevel::kAvx2, IsaLevel::kAvx512, IsaLevel::kAvx512Vnni})
    if (CpuHas(l)) out.push_back(l);
  return out;
}

IsaLevel ChooseIsaLevel(const char* requested, const std::vector<IsaLevel>& supported) {
  if (requested == nullptr || *requested == '\0') return supported.back();
  std::string valid;
  for (IsaLevel l : supported) {
    if (requested == std::string(IsaLevelName(l))) return l;
    valid += std::string(valid.empty() ? "" : ", ") + IsaLevelName(l);
  }
  bool known = false;
  for (IsaLevel l :
       {IsaLevel::kPortable, IsaLevel::kAvx2, IsaLevel::kAvx512, IsaLevel::kAvx512Vnni})
    known = known || requested == std::string(IsaLevelName(l));
  throw std::invalid_argument(
      "ORCH_GEMV_ISA=" + std::string(requested) +
      (known ? ": this CPU (or build) has no such level" : ": not a CPU GEMV level") +
      "; valid here: " + valid + " (unset: the best, " + IsaLevelName(supported.back()) + ")");
}

IsaLevel ChosenIsaLevel() {
  // A throwing initializer leaves `level` uninitialized: every call reports the error again.
  static const IsaLevel level = ChooseIsaLevel(std::getenv("ORCH_GEMV_ISA"), SupportedIsaLevels());
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
