// CUDA build of the device services: caching-allocator statistics, CUDA events, device
// properties. CPU devices behave as in the CPU-only build.
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>

#include <fstream>
#include <string>

#include "worker/backend/device.h"

namespace orch::worker {


bool BuiltWithCuda() { return true; }

std::string DeviceUnavailableReason(at::Device device) {
  if (device.is_cpu()) return "";
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) count = 0;
  if (count == 0) return "device " + device.str() + " requested but no CUDA device is visible";
  if (device.index() >= count)
    return "device " + device.str() + " requested but only " + std::to_string(count) +
           " CUDA device(s) visible";
  return "";
}

void SynchronizeDevice(at::Device device) {
  if (device.is_cuda()) c10::cuda::device_synchronize();
}

void ResetPeakMemory(at::Device device) {
  if (!device.is_cuda()) return;
  // The caching allocator exists only after CUDA's lazy initialization; a tiny allocation
  // guarantees it (resetPeakStats on an uninitialized allocator is an error).
  at::empty({1}, at::TensorOptions().device(device));
  c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
}

MemoryStats PeakMemory(at::Device device) {
  MemoryStats m;
  m.peak_rss_bytes = PeakRssBytes();
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    const auto kAll = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    m.peak_alloc_bytes = stats.allocated_bytes[kAll].peak;
    m.peak_reserved_bytes = stats.reserved_bytes[kAll].peak;
  }
  return m;
}

std::string DeviceName(at::Device device) {
  if (!device.is_cuda()) return CpuModelName();
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device.index()) != cudaSuccess) return "cuda";
  return prop.name;
}

std::string CudaRuntimeVersion() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) return "";
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

namespace {
class CudaEventStepTimer : public DeviceStepTimer {
 public:
  void Start() override { start_.record(); }
  double Stop() override {
    stop_.record();
    stop_.synchronize();
    return start_.elapsed_time(stop_);
  }

 private:
  at::cuda::CUDAEvent start_{cudaEventDefault};
  at::cuda::CUDAEvent stop_{cudaEventDefault};
};
}  // namespace

std::unique_ptr<DeviceStepTimer> MakeDeviceStepTimer(at::Device device) {
  if (!device.is_cuda()) return nullptr;
  return std::make_unique<CudaEventStepTimer>();
}

}  // namespace orch::worker
