// Device: the trial's device string ("cpu", "cuda", "cuda:0") as an at::Device, and the few
// device services the decode loop needs (synchronize, peak memory, name, CUDA events). The
// CUDA implementation lives in device_cuda.cc, the CPU-only one in device_cpu.cc; which is
// linked depends on ORCH_WORKER_CUDA. Call from the trial thread only.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace orch::worker {

// nullopt with *error when the string is not cpu / cuda / cuda:N.
std::optional<at::Device> ParseDevice(const std::string& spec, std::string* error);

// Empty when the device can run here; otherwise why not (CPU-only build, no GPU visible).
std::string DeviceUnavailableReason(at::Device device);

void SynchronizeDevice(at::Device device);

struct MemoryStats {
  int64_t peak_alloc_bytes = -1;     // CUDA caching allocator; -1 when not applicable
  int64_t peak_reserved_bytes = -1;  // CUDA caching allocator
  int64_t peak_rss_bytes = -1;       // process peak resident set size (getrusage)
};
void ResetPeakMemory(at::Device device);
MemoryStats PeakMemory(at::Device device);

std::string DeviceName(at::Device device);
std::string CudaRuntimeVersion();  // "13.0", or "" in a CPU-only build

// Device-side step timing (CUDA events); nullptr on CPU.
class DeviceStepTimer {
 public:
  virtual ~DeviceStepTimer() = default;
  virtual void Start() = 0;
  // Milliseconds between Start() and Stop(); synchronizes on the stop event.
  virtual double Stop() = 0;
};
std::unique_ptr<DeviceStepTimer> MakeDeviceStepTimer(at::Device device);

// True when `message` (of a c10::Error) reports a CUDA failure other than out-of-memory.
bool IsCudaErrorMessage(const std::string& message);

// Whether this build carries CUDA code at all.
bool BuiltWithCuda();

// Shared by device_cpu.cc and device_cuda.cc: peak resident set of this process, and
// the host CPU's model name (the device name of a CPU trial).
int64_t PeakRssBytes();
std::string CpuModelName();

}  // namespace orch::worker
