#include "orchestrator/provenance.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "orch_build_info.h"
#include "orchestrator/machine_facts.h"
#include "orchestrator/attempt/ownership.h"
#include "orchestrator/local/subprocess.h"

namespace orch {
namespace {

std::string OsName() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      utsname u{};
      ::uname(&u);
      return v + " (" + u.sysname + " " + u.release + " " + u.machine + ")";
    }
  }
  return "unknown";
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

nlohmann::json CollectProvenance(double probe_timeout_s) {
  nlohmann::json p = {
      {"orch_commit", ORCH_GIT_COMMIT},
      {"orch_dirty", ORCH_GIT_DIRTY},
      {"build_type", ORCH_BUILD_TYPE},
      {"compiler", ORCH_COMPILER},
      {"host", ThisProcessIdentity().host},
      {"os", OsName()},
      {"cpu_model", CpuModel()},
      {"cpus", static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN))},
      {"cpus_usable", UsableCpus(ReadMachineFacts())},
      {"started_utc", UtcNow()},
      {"gpus", nlohmann::json::array()},
  };
  auto smi = CaptureOutput({"nvidia-smi", "--query-gpu=name,uuid,driver_version",
                            "--format=csv,noheader"},
                           probe_timeout_s);
  if (!smi.ok() && smi.status().message().find("no answer") != std::string::npos) {
    p["probe_errors"].push_back(smi.status().message());
  }
  if (smi.ok()) {
    std::istringstream in(*smi);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> parts;
      std::stringstream ss(line);
      std::string part;
      while (std::getline(ss, part, ',')) {
        auto b = part.find_first_not_of(' ');
        parts.push_back(b == std::string::npos ? "" : part.substr(b));
      }
      if (parts.size() == 3) {
        p["gpus"].push_back({{"name", parts[0]}, {"uuid", parts[1]}, {"driver", parts[2]}});
      }
    }
  }
  return p;
}

}  // namespace orch
