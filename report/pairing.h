// Pairing on a key: inside one sweep, the cells that differ only in one named config key
// (the stack comparison: `worker: [orch, reference]`), each set against the cell with the
// reference value. Generic over the key; execution-policy keys are ignored when cells are
// matched. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/contrast.h"
#include "report/model.h"

namespace orch::report {

struct PairingOptions {
  std::string key = "worker";
  // The denominator of every ratio; when no cell has it, the first value in spec order.
  std::string reference_value = "reference";
  std::vector<std::string> ignored_keys = ExecutionPolicyKeys();
  ContrastOptions contrast;
};

struct KeyPairing {
  std::string key;
  std::string reference_value;      // as chosen (see PairingOptions)
  std::vector<std::string> values;  // distinct values of the key, spec order
  std::vector<CellPair> pairs;      // spec order of the non-reference cell
  struct Unpaired {
    Cell cell;
    std::string why;
  };
  std::vector<Unpaired> unpaired;  // cells carrying the key with no counterpart
};

// `cells`: each trial once, spec order. nullopt when fewer than two cells carry the key
// with different values (nothing to pair: no section).
std::optional<KeyPairing> PairOnKey(const std::vector<const Cell*>& cells,
                                    const PairingOptions& opts);
std::optional<KeyPairing> PairOnKey(const std::vector<Cell>& cells, const PairingOptions& opts);

}  // namespace orch::report
