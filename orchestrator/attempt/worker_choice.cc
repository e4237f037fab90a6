#include "orchestrator/attempt/worker_choice.h"

#include <nlohmann/json.hpp>

namespace orch {

StatusOr<std::string> WorkerForConfig(const std::string& config_json,
                                      const std::string& default_worker,
                                      const std::map<std::string, std::string>& workers) {
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, false);
  auto name = config.is_object() ? config.find("worker") : config.end();
  if (!config.is_object() || name == config.end() || !name->is_string() || *name == "orch") {
    return default_worker;
  }
  auto it = workers.find(name->get<std::string>());
  if (it == workers.end()) {
    return Status::Error("worker '" + name->get<std::string>() +
                         "' is not declared in the spec (built in: orch, reference)");
  }
  return it->second;
}

}  // namespace orch
