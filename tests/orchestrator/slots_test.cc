// Slots and machine facts: --gpus within an inherited CUDA_VISIBLE_DEVICES, GPU UUIDs and
// MIG ids, CPU shares from the affinity mask and the cgroup quota (fake /proc and /sys).
#include "orchestrator/local/slots.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "orchestrator/machine_facts.h"
#include "test_util.h"

namespace orch {
namespace {

using testing::TempDir;
using testing::WriteText;

MachineFacts Facts(std::optional<std::string> cvd, int online = 64, int affinity = 64,
                   std::optional<double> quota = std::nullopt) {
  MachineFacts f;
  f.cuda_visible_devices = std::move(cvd);
  f.online_cpus = online;
  f.affinity_cpus = affinity;
  f.cgroup_cpus = quota;
  return f;
}

TEST(Slots, GpuIndicesWithoutInheritedDevicesAreThemselves) {
  auto s = MakeSlots("0,1", 1, Facts(std::nullopt));
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].name, "gpu:0");
  EXPECT_EQ((*s)[0].cuda_visible_devices, "0");
  EXPECT_EQ((*s)[1].cuda_visible_devices, "1");
}

TEST(Slots, GpuIndicesCountWithinAnInheritedCudaVisibleDevices) {
  // As under SLURM: the job was granted GPUs 2 and 3.
  auto s = MakeSlots("0,1", 1, Facts("2,3"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].cuda_visible_devices, "2");
  EXPECT_EQ((*s)[1].cuda_visible_devices, "3");
  auto one = MakeSlots("1", 1, Facts("GPU-aaaa-1111,GPU-bbbb-2222"));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].cuda_visible_devices, "GPU-bbbb-2222");
}

TEST(Slots, GpuIndexBeyondTheGrantedDevicesIsAClearError) {
  auto s = MakeSlots("2", 1, Facts("2,3"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidInput);
  EXPECT_NE(s.status().message().find("--gpus 2"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("CUDA_VISIBLE_DEVICES=2,3"), std::string::npos);
  EXPECT_NE(s.status().message().find("from 0 to 1"), std::string::npos);
  // Nothing granted at all ("" or -1 hide every GPU).
  EXPECT_FALSE(MakeSlots("0", 1, Facts("")).ok());
  EXPECT_FALSE(MakeSlots("0", 1, Facts("-1")).ok());
  // Entries after an invalid one are ignored by CUDA, and so here.
  EXPECT_FALSE(MakeSlots("1", 1, Facts("0,NoDevFiles,1")).ok());
}

TEST(Slots, AcceptsGpuUuidsAndMigIds) {
  auto s = MakeSlots(
      "GPU-8f2a1c3e-1111-2222-3333-444455556666,MIG-0b1c2d3e-aaaa-bbbb-cccc-"
      "ddddeeeeffff,MIG-GPU-8f2a1c3e-1111-2222-3333-444455556666/1/0",
      1, Facts(std::nullopt));
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].cuda_visible_devices, "GPU-8f2a1c3e-1111-2222-3333-444455556666");
  EXPECT_EQ((*s)[1].cuda_visible_devices, "MIG-0b1c2d3e-aaaa-bbbb-cccc-ddddeeeeffff");
  EXPECT_EQ((*s)[2].cuda_visible_devices, "MIG-GPU-8f2a1c3e-1111-2222-3333-444455556666/1/0");
  // Granted by UUID: a listed one is fine, another is not this process's to use.
  EXPECT_TRUE(MakeSlots("GPU-aaaa", 1, Facts("GPU-aaaa,GPU-bbbb")).ok());
  auto other = MakeSlots("GPU-cccc", 1, Facts("GPU-aaaa,GPU-bbbb"));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("not among the GPUs"), std::string::npos);
}

TEST(Slots, RejectsMalformedAndDuplicateGpus) {
  EXPECT_FALSE(MakeSlots("0,,1", 1, Facts(std::nullopt)).ok());
  EXPECT_FALSE(MakeSlots("cuda:0", 1, Facts(std::nullopt)).ok());
  EXPECT_FALSE(MakeSlots("0;rm -rf", 1, Facts(std::nullopt)).ok());
  auto dup = MakeSlots("0,0", 1, Facts(std::nullopt));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("twice"), std::string::npos);
  // 0 and 1 name the same device when the job was granted "3,3"? No: index 0 -> 3, 1 -> 3.
  EXPECT_FALSE(MakeSlots("0,1", 1, Facts("3,3")).ok());
}

TEST(Slots, CpuSharesFollowTheAffinityMaskNotTheMachine) {
  auto s = MakeSlots("", 2, Facts(std::nullopt, /*online=*/64, /*affinity=*/8));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].cpu_threads, 4);
  EXPECT_EQ((*s)[1].cpu_threads, 4);
  EXPECT_FALSE((*s)[0].cuda_visible_devices);
  // Unknown mask: the machine's CPUs.
  EXPECT_EQ((*MakeSlots("", 4, Facts(std::nullopt, 16, 0)))[0].cpu_threads, 4);
}

TEST(Slots, CpuSharesFollowTheCgroupQuota) {
  // docker --cpus 2.5 on a 64-CPU machine: 2 CPUs' worth for the sweep, rounded down.
  auto s = MakeSlots("", 2, Facts(std::nullopt, 64, 64, 2.5));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].cpu_threads, 1);
  EXPECT_EQ((*MakeSlots("", 1, Facts(std::nullopt, 64, 64, 2.5)))[0].cpu_threads, 2);
  // The tighter of mask and quota wins; a tiny quota still leaves one thread.
  EXPECT_EQ((*MakeSlots("", 1, Facts(std::nullopt, 64, 3, 16)))[0].cpu_threads, 3);
  EXPECT_EQ((*MakeSlots("", 1, Facts(std::nullopt, 64, 64, 0.2)))[0].cpu_threads, 1);
  EXPECT_FALSE(MakeSlots("", 0, Facts(std::nullopt)).ok());
}

TEST(MachineFacts, ReadsTheTightestCgroupV2QuotaOfTheProcessAndItsAncestors) {
  TempDir d;
  std::filesystem::create_directories(d / "proc/self");
  std::filesystem::create_directories(d / "sys/fs/cgroup/job/step");
  WriteText(d / "proc/self/cgroup", "0::/job/step\n");
  WriteText(d / "sys/fs/cgroup/job/step/cpu.max", "max 100000\n");
  WriteText(d / "sys/fs/cgroup/job/cpu.max", "400000 100000\n");
  EXPECT_EQ(ReadCgroupCpuLimit(d.path()), 4.0);
  WriteText(d / "sys/fs/cgroup/job/step/cpu.max", "150000 100000\n");
  EXPECT_EQ(ReadCgroupCpuLimit(d.path()), 1.5);
  WriteText(d / "sys/fs/cgroup/job/step/cpu.max", "max 100000\n");
  WriteText(d / "sys/fs/cgroup/job/cpu.max", "max 100000\n");
  EXPECT_FALSE(ReadCgroupCpuLimit(d.path()));
}

TEST(MachineFacts, ReadsACgroupV2QuotaInsideACgroupNamespace) {
  // In a container the path names the host's cgroup; the mount shows the container's.
  TempDir d;
  std::filesystem::create_directories(d / "proc/self");
  std::filesystem::create_directories(d / "sys/fs/cgroup");
  WriteText(d / "proc/self/cgroup", "0::/../../system.slice/docker-abc.scope\n");
  WriteText(d / "sys/fs/cgroup/cpu.max", "200000 100000\n");
  EXPECT_EQ(ReadCgroupCpuLimit(d.path()), 2.0);
}

TEST(MachineFacts, ReadsACgroupV1Quota) {
  TempDir d;
  std::filesystem::create_directories(d / "proc/self");
  std::filesystem::create_directories(d / "sys/fs/cgroup/cpu,cpuacct/docker/abc");
  WriteText(d / "proc/self/cgroup",
            "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n");
  WriteText(d / "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
  WriteText(d / "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  WriteText(d / "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  WriteText(d / "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(ReadCgroupCpuLimit(d.path()), 3.0);
  WriteText(d / "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_FALSE(ReadCgroupCpuLimit(d.path()));
}

TEST(MachineFacts, ThisProcessHasAtLeastOneUsableCpu) {
  MachineFacts f = ReadMachineFacts();
  EXPECT_GE(f.affinity_cpus, 1);
  EXPECT_LE(f.affinity_cpus, f.online_cpus);
  EXPECT_GE(UsableCpus(f), 1);
}

}  // namespace
}  // namespace orch
