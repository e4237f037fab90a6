// WorkerEvents: the progress a worker reports as JSON lines (docs/protocol.md): the
// bytes read from its event pipe are split into lines, each parsed and remembered (last
// phase, token progress, warnings, the final failure). Malformed lines still count as a
// sign of life but are otherwise ignored. Memory is bounded whatever the worker writes:
// a line longer than kMaxLineBytes is dropped (and counted), distinct warnings are kept
// up to kMaxWarnings, texts are cut to kMaxFieldBytes. Single-threaded.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace orch {

class WorkerEvents {
 public:
  static constexpr size_t kMaxLineBytes = size_t{1} << 20;  // 1 MiB
  static constexpr size_t kMaxWarnings = 100;
  static constexpr size_t kMaxFieldBytes = 4096;

  // Feeds raw bytes; returns the complete lines they finished (for the events log),
  // except oversized ones.
  std::vector<std::string> Feed(std::string_view bytes);

  const std::string& phase() const { return phase_; }
  long long token() const { return token_; }  // -1 until a heartbeat names one
  long long total() const { return total_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  // The last `failure` event: {"outcome": ..., "message": ...}.
  const std::optional<nlohmann::json>& failure() const { return failure_; }
  int malformed() const { return malformed_; }
  int oversized() const { return oversized_; }  // lines dropped for exceeding kMaxLineBytes

 private:
  void Handle(const std::string& line);
  std::string partial_;
  std::string phase_;
  long long token_ = -1, total_ = -1;
  bool discarding_ = false;  // inside an oversized line, until its newline
  std::vector<std::string> warnings_;  // distinct, in order of arrival
  std::unordered_set<std::string> seen_warnings_;
  std::optional<nlohmann::json> failure_;
  int malformed_ = 0;
  int oversized_ = 0;
};

}  // namespace orch
