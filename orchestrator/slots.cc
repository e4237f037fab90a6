#include "orchestrator/slots.h"

#include <algorithm>
#include <sstream>
#include <thread>

namespace orch {

StatusOr<std::vector<Slot>> MakeSlots(const std::string& gpus, int jobs) {
  std::vector<Slot> slots;
  if (!gpus.empty()) {
    std::stringstream ss(gpus);
    std::string id;
    while (std::getline(ss, id, ',')) {
      if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
        return Status::InvalidInput("--gpus takes GPU indices like 0,1 (got '" + gpus + "')");
      }
      slots.push_back({"gpu:" + id, id});
    }
    return slots;
  }
  if (jobs < 1) return Status::InvalidInput("-j must be at least 1");
  // N trials at once share the cores: oversubscribing them would distort every TPOT.
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < jobs; ++i) {
    slots.push_back({"cpu:" + std::to_string(i), std::nullopt, std::max(1, cores / jobs)});
  }
  return slots;
}

}  // namespace orch
