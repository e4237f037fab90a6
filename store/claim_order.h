// ClaimOrder: which pending replicate a claim takes next. Replicates are claimed round by
// round (every pending cell's replicate r before any replicate r+1), so that drift of
// the machine over a sweep spreads over all cells instead of landing on one; within a
// round in spec order ("interleaved") or in a seeded random order ("random:SEED"). The
// order is a pure function of the candidates and the sweep's recorded order, so a reader
// can reconstruct it (docs/design.md, "Replicates"). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orch::store {

struct ClaimCandidate {
  std::string trial_key;
  int replicate = 1;   // the replicate a claim would measure (ok replicates + 1)
  int replicates = 1;  // the trial's target
  int spec_index = 0;  // position in spec order among the candidates
};

// "interleaved" or "random:SEED" (SEED a decimal uint64); nullopt for anything else.
struct ParsedClaimOrder {
  bool random = false;
  uint64_t seed = 0;
};
std::optional<ParsedClaimOrder> ParseClaimOrder(const std::string& order);
std::string ClaimOrderText(const ParsedClaimOrder& order);

// The rank of a candidate within its round under a random order: sha256 of
// "SEED:REPLICATE:KEY" in hex; lower ranks go first.
std::string RandomRank(uint64_t seed, int replicate, const std::string& trial_key);

// The candidate to claim next: the lowest replicate number first, then spec order
// (interleaved) or RandomRank (random). An unknown order string counts as interleaved.
std::optional<ClaimCandidate> PickNextReplicate(const std::vector<ClaimCandidate>& candidates,
                                                const std::string& order);

}  // namespace orch::store
