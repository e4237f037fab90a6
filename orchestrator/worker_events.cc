#include "orchestrator/worker_events.h"

namespace orch {

std::vector<std::string> WorkerEvents::Feed(std::string_view bytes) {
  std::vector<std::string> lines;
  partial_.append(bytes);
  size_t start = 0, nl;
  while ((nl = partial_.find('\n', start)) != std::string::npos) {
    std::string line = partial_.substr(start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    Handle(line);
    lines.push_back(std::move(line));
  }
  partial_.erase(0, start);
  return lines;
}

void WorkerEvents::Handle(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("event") || !j["event"].is_string()) {
    ++malformed_;
    return;
  }
  std::string ev = j["event"];
  if (ev == "phase" && j.value("name", nlohmann::json()).is_string()) {
    phase_ = j["name"];
  } else if (ev == "heartbeat") {
    if (j.contains("token") && j["token"].is_number_integer()) token_ = j["token"];
    if (j.contains("total") && j["total"].is_number_integer()) total_ = j["total"];
  } else if (ev == "warning" && j.value("message", nlohmann::json()).is_string()) {
    warnings_.push_back(j["message"]);
  } else if (ev == "failure") {
    failure_ = j;
  }
}

}  // namespace orch
