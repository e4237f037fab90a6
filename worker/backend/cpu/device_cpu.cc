// CPU-only build of the device services: CUDA devices are reported unavailable.
#include <fstream>
#include <string>

#include "worker/backend/device.h"

namespace orch::worker {


bool BuiltWithCuda() { return false; }

std::string DeviceUnavailableReason(at::Device device) {
  if (device.is_cpu()) return "";
  return "device " + device.str() +
         " requested but this orch-worker was built without CUDA "
         "(ORCH_WITH_CUDA=OFF or no nvcc at build time)";
}

void SynchronizeDevice(at::Device) {}
void ResetPeakMemory(at::Device) {}

MemoryStats PeakMemory(at::Device) {
  MemoryStats m;
  m.peak_rss_bytes = PeakRssBytes();
  return m;
}

std::string DeviceName(at::Device device) { return CpuModelName(); }
std::string CudaRuntimeVersion() { return ""; }
std::unique_ptr<DeviceStepTimer> MakeDeviceStepTimer(at::Device) { return nullptr; }

}  // namespace orch::worker
