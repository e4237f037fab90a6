#include "orchestrator/machine_facts.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace orch {
namespace {

std::optional<std::string> FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// Walks from `mount + path` up to `mount`, calling `limit(dir)` on each directory.
template <typename F>
void WalkUp(const std::string& mount, const std::string& path, F limit) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(mount) / fs::path(path).relative_path();
  std::error_code ec;
  // Inside a cgroup namespace the path may name a directory the mount does not show:
  // the mount's root is then this process's cgroup.
  if (!fs::is_directory(dir, ec)) dir = mount;
  while (true) {
    limit(dir.string());
    if (dir == fs::path(mount) || !dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
    if (dir.string().size() < mount.size()) break;
  }
}

std::optional<double> Min(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

std::optional<double> ReadCgroupCpuLimit(const std::string& root) {
  std::ifstream in(root + "/proc/self/cgroup");
  std::string line;
  std::optional<double> best;
  while (std::getline(in, line)) {
    // hierarchy-id:controllers:path
    auto c1 = line.find(':');
    auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::string id = line.substr(0, c1), controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path = line.substr(c2 + 1);
    if (id == "0" && controllers.empty()) {  // cgroup v2: "max 100000" or "200000 100000"
      WalkUp(root + "/sys/fs/cgroup", path, [&](const std::string& dir) {
        auto v = FirstLine(dir + "/cpu.max");
        if (!v) return;
        std::istringstream ss(*v);
        std::string quota;
        double period = 0;
        if (ss >> quota >> period && quota != "max" && period > 0) {
          double q = std::atof(quota.c_str());
          if (q > 0) best = Min(best, q / period);
        }
      });
      continue;
    }
    std::stringstream cs(controllers);
    std::string name;
    bool cpu = false;
    while (std::getline(cs, name, ',')) cpu = cpu || name == "cpu";
    if (!cpu) continue;
    for (const char* mount : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
      std::error_code ec;
      if (!std::filesystem::is_directory(root + mount, ec)) continue;
      WalkUp(root + mount, path, [&](const std::string& dir) {
        auto quota = FirstLine(dir + "/cpu.cfs_quota_us");
        auto period = FirstLine(dir + "/cpu.cfs_period_us");
        if (!quota || !period) return;
        double q = std::atof(quota->c_str()), p = std::atof(period->c_str());
        if (q > 0 && p > 0) best = Min(best, q / p);  // -1: no quota
      });
      break;
    }
  }
  return best;
}

MachineFacts ReadMachineFacts(const std::string& root) {
  MachineFacts f;
  if (const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES")) f.cuda_visible_devices = cvd;
  f.online_cpus = std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) f.affinity_cpus = CPU_COUNT(&set);
  f.cgroup_cpus = ReadCgroupCpuLimit(root);
  return f;
}

int UsableCpus(const MachineFacts& facts) {
  int cpus = facts.affinity_cpus > 0 ? facts.affinity_cpus : facts.online_cpus;
  if (facts.cgroup_cpus) {
    cpus = std::min(cpus, static_cast<int>(std::floor(*facts.cgroup_cpus)));
  }
  return std::max(1, cpus);
}

}  // namespace orch
