#include "orchestrator/local/slots.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

namespace orch {
namespace {

std::string Trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool IsIndex(const std::string& s) {
  return !s.empty() && s.size() <= 4 && s.find_first_not_of("0123456789") == std::string::npos;
}

// GPU-<uuid>, MIG-<uuid>, or the older MIG-GPU-<uuid>/<gi>/<ci>.
bool IsUuid(const std::string& s) {
  if (s.rfind("GPU-", 0) != 0 && s.rfind("MIG-", 0) != 0) return false;
  return s.size() > 4 && std::all_of(s.begin() + 4, s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '/';
         });
}

// CUDA's reading of CUDA_VISIBLE_DEVICES: entries up to the first invalid one.
std::vector<std::string> Visible(const std::string& cvd) {
  std::vector<std::string> out;
  std::stringstream ss(cvd);
  std::string e;
  while (std::getline(ss, e, ',')) {
    e = Trim(e);
    if (!IsIndex(e) && !IsUuid(e)) break;  // "-1", "NoDevFiles", "": nothing after
    out.push_back(e);
  }
  return out;
}

}  // namespace

StatusOr<std::vector<Slot>> MakeSlots(const std::string& gpus, int jobs,
                                      const MachineFacts& facts) {
  std::vector<Slot> slots;
  if (!gpus.empty()) {
    std::optional<std::vector<std::string>> granted;
    if (facts.cuda_visible_devices) granted = Visible(*facts.cuda_visible_devices);
    std::string inherited =
        facts.cuda_visible_devices ? "CUDA_VISIBLE_DEVICES=" + *facts.cuda_visible_devices : "";
    std::set<std::string> seen;
    std::stringstream ss(gpus);
    std::string id;
    while (std::getline(ss, id, ',')) {
      id = Trim(id);
      std::string device;
      if (IsIndex(id)) {
        size_t i = std::stoul(id);
        if (granted && i >= granted->size()) {
          return Status::InvalidInput(
              "--gpus " + id + ": this process may use " + std::to_string(granted->size()) +
              " GPU(s) (" + inherited + "), so indices run " +
              (granted->empty() ? std::string("nowhere") :
                                  "from 0 to " + std::to_string(granted->size() - 1)) +
              "; --gpus counts within CUDA_VISIBLE_DEVICES");
        }
        device = granted ? (*granted)[i] : id;
      } else if (IsUuid(id)) {
        if (granted && std::find(granted->begin(), granted->end(), id) == granted->end()) {
          return Status::InvalidInput("--gpus " + id + ": not among the GPUs this process may use (" +
                                      inherited + "); pick them by index 0.." +
                                      std::to_string(std::max<int>(0, granted->size() - 1)));
        }
        device = id;
      } else {
        return Status::InvalidInput("--gpus takes GPU indices like 0,1, GPU UUIDs (GPU-…) or "
                                    "MIG ids (MIG-…) (got '" + gpus + "')");
      }
      if (!seen.insert(device).second) {
        return Status::InvalidInput("--gpus " + gpus + ": GPU " + device + " is listed twice");
      }
      slots.push_back({"gpu:" + id, device});
    }
    if (slots.empty()) return Status::InvalidInput("--gpus: no GPU given");
    return slots;
  }
  if (jobs < 1) return Status::InvalidInput("-j must be at least 1");
  // N trials at once share the CPUs: oversubscribing them would distort every TPOT.
  int cpus = UsableCpus(facts);
  for (int i = 0; i < jobs; ++i) {
    slots.push_back({"cpu:" + std::to_string(i), std::nullopt, std::max(1, cpus / jobs)});
  }
  return slots;
}

StatusOr<std::vector<Slot>> MakeSlots(const std::string& gpus, int jobs) {
  return MakeSlots(gpus, jobs, ReadMachineFacts());
}

}  // namespace orch
