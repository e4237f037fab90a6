// MachineFacts: what this process may use of the machine, as opposed to what the
// machine has: the GPUs an inherited CUDA_VISIBLE_DEVICES grants (SLURM, a shared box),
// the CPUs of the affinity mask (taskset, SLURM, Docker --cpuset-cpus) and the CPU time
// a cgroup quota grants (Docker --cpus, Kubernetes limits, systemd CPUQuota). Slots are
// made from these facts; tests inject them. Pure readers, safe from any thread.
#pragma once

#include <optional>
#include <string>

namespace orch {

struct MachineFacts {
  std::optional<std::string> cuda_visible_devices;  // inherited value, when set
  int online_cpus = 1;                              // the machine's CPUs
  int affinity_cpus = 0;                            // CPUs in the affinity mask; 0: unknown
  std::optional<double> cgroup_cpus;                // quota / period; unset: no quota
};

// Reads the facts of this process. `root` prefixes /proc and /sys (tests pass a fake
// tree; the environment and the affinity mask are always this process's).
MachineFacts ReadMachineFacts(const std::string& root = "");

// The tightest CPU quota of the cgroup (v2 `cpu.max`, v1 `cpu.cfs_quota_us` /
// `cpu.cfs_period_us`) of this process and its ancestors, in CPUs; unset when none.
std::optional<double> ReadCgroupCpuLimit(const std::string& root = "");

// CPUs the process may keep busy: the affinity mask (or the online CPUs when unknown),
// lowered to the cgroup quota rounded down, at least 1.
int UsableCpus(const MachineFacts& facts);

}  // namespace orch
