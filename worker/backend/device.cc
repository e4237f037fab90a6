#include "worker/backend/device.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace orch::worker {

std::optional<at::Device> ParseDevice(const std::string& spec, std::string* error) {
  if (spec == "cpu") return at::Device(at::kCPU);
  if (spec == "cuda") return at::Device(at::kCUDA, 0);
  if (spec.rfind("cuda:", 0) == 0) {
    const std::string idx = spec.substr(5);
    if (!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos && idx.size() < 4)
      return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(std::stoi(idx)));
  }
  *error = "device '" + spec + "' is not one of cpu, cuda, cuda:N";
  return std::nullopt;
}

bool IsCudaErrorMessage(const std::string& m) {
  return m.find("CUDA error") != std::string::npos || m.find("cudaError") != std::string::npos ||
         m.find("CUBLAS_STATUS_") != std::string::npos ||
         m.find("CUDA driver") != std::string::npos || m.find("cuDNN error") != std::string::npos;
}

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "cpu";
}

int64_t PeakRssBytes() {
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace orch::worker
