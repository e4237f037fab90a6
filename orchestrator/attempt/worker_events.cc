#include "orchestrator/attempt/worker_events.h"

namespace orch {

std::vector<std::string> WorkerEvents::Feed(std::string_view bytes) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t nl = bytes.find('\n', start);
    std::string_view piece = bytes.substr(start, nl == std::string_view::npos ? nl : nl - start);
    start = nl == std::string_view::npos ? bytes.size() : nl + 1;
    if (!discarding_) {
      if (partial_.size() + piece.size() > kMaxLineBytes) {
        // An event line without its newline beyond the cap: dropped, not buffered.
        if (oversized_++ == 0) {
          warnings_.push_back("orch: dropped an event line longer than 1 MiB (and any later ones)");
        }
        partial_.clear();
        discarding_ = true;
      } else {
        partial_.append(piece);
      }
    }
    if (nl == std::string_view::npos) break;
    if (discarding_) {
      discarding_ = false;  // the oversized line ends here; the next one is read again
      continue;
    }
    std::string line = std::move(partial_);
    partial_.clear();
    if (line.empty()) continue;
    Handle(line);
    lines.push_back(std::move(line));
  }
  return lines;
}

void WorkerEvents::Handle(const std::string& line) {
  // Type-checked throughout: a worker's line can be anything.
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("event") || !j["event"].is_string()) {
    ++malformed_;
    return;
  }
  const std::string& ev = j["event"].get_ref<const std::string&>();
  auto text = [&](const char* field) -> const std::string* {
    return j.contains(field) && j[field].is_string() ? &j[field].get_ref<const std::string&>()
                                                     : nullptr;
  };
  if (ev == "phase") {
    if (const std::string* name = text("name")) phase_ = name->substr(0, kMaxFieldBytes);
  } else if (ev == "heartbeat") {
    if (j.contains("token") && j["token"].is_number_integer()) token_ = j["token"].get<long long>();
    if (j.contains("total") && j["total"].is_number_integer()) total_ = j["total"].get<long long>();
  } else if (ev == "warning") {
    if (const std::string* msg = text("message")) {
      std::string m = msg->substr(0, kMaxFieldBytes);
      if (warnings_.size() < kMaxWarnings && seen_warnings_.insert(m).second) {
        warnings_.push_back(std::move(m));
      }
    }
  } else if (ev == "failure") {
    failure_ = std::move(j);
  }
}

}  // namespace orch
