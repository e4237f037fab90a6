// A small sweep builder for report tests: cells with given configs and attempt results,
// written through the Store's public write API (the claim order the store uses: spec
// order, a retried trial claimed again at once). Latency samples come from mt19937_64
// with a hand-written uniform draw (no std distributions), so tests are reproducible.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace orch::report::testing {

struct AttemptSpec {
  std::string outcome = "ok";
  std::string reason;
  std::string stderr_tail;
  std::optional<int> exit_code = 0;
  std::optional<int> signal;
  std::string slot = "gpu:0";
  double duration_s = 10;
  std::string details = "{}";
  double ppl = 20;
  double tpot_ms = 10;   // centre of the latency samples (ok attempts)
  double noise = 0.02;   // relative half-width of the uniform noise
  int replicates = 3;    // repeats with samples
  int tokens = 64;       // samples per replicate
  bool terminal = true;  // false: the trial goes back to pending (a retry)
};

// An ok attempt whose samples centre on `tpot_ms`, with perplexity `ppl`.
inline AttemptSpec OkAttempt(double tpot_ms, double ppl = 20) {
  AttemptSpec a;
  a.tpot_ms = tpot_ms;
  a.ppl = ppl;
  return a;
}

struct CellSpec {
  std::string study = "S";
  nlohmann::json config;  // any JSON object; the trial key is its sha256
  std::vector<AttemptSpec> attempts;
};

// Adds sweep `name` with `cells` (studies in first-seen order) to `db` and runs it.
// `device_name`: what the worker environment reports as its device.
Status BuildSweep(store::Store& db, const std::string& name, const std::vector<CellSpec>& cells,
                  const std::string& device_name = "NVIDIA H100 80GB HBM3",
                  uint64_t sample_seed = 1);

// A config with the usual keys; `extra` overrides or adds keys.
nlohmann::json Config(const nlohmann::json& extra = nlohmann::json::object());

}  // namespace orch::report::testing
