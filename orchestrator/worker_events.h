// WorkerEvents: the progress a worker reports as JSON lines (docs/protocol.md): the
// bytes read from its event pipe are split into lines, each parsed and remembered (last
// phase, token progress, warnings, the final failure). Malformed lines still count as a
// sign of life but are otherwise ignored. Single-threaded.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

class WorkerEvents {
 public:
  // Feeds raw bytes; returns the complete lines they finished (for the events log).
  std::vector<std::string> Feed(std::string_view bytes);

  const std::string& phase() const { return phase_; }
  long long token() const { return token_; }  // -1 until a heartbeat names one
  long long total() const { return total_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  // The last `failure` event: {"outcome": ..., "message": ...}.
  const std::optional<nlohmann::json>& failure() const { return failure_; }
  int malformed() const { return malformed_; }

 private:
  void Handle(const std::string& line);
  std::string partial_;
  std::string phase_;
  long long token_ = -1, total_ = -1;
  std::vector<std::string> warnings_;
  std::optional<nlohmann::json> failure_;
  int malformed_ = 0;
};

}  // namespace orch
