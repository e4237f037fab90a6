#include "store/claim_order.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <tuple>

#include "base/sha256.h"

namespace orch::store {

std::optional<ParsedClaimOrder> ParseClaimOrder(const std::string& order) {
  if (order == "interleaved") return ParsedClaimOrder{};
  const std::string prefix = "random:";
  if (order.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string digits = order.substr(prefix.size());
  if (digits.empty() || digits.size() > 20 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  errno = 0;
  unsigned long long v = std::strtoull(digits.c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  return ParsedClaimOrder{true, static_cast<uint64_t>(v)};
}

std::string ClaimOrderText(const ParsedClaimOrder& order) {
  return order.random ? "random:" + std::to_string(order.seed) : "interleaved";
}

std::string RandomRank(uint64_t seed, int replicate, const std::string& trial_key) {
  return Sha256Hex(std::to_string(seed) + ":" + std::to_string(replicate) + ":" + trial_key);
}

std::optional<ClaimCandidate> PickNextReplicate(const std::vector<ClaimCandidate>& candidates,
                                                const std::string& order) {
  if (candidates.empty()) return std::nullopt;
  ParsedClaimOrder parsed = ParseClaimOrder(order).value_or(ParsedClaimOrder{});
  auto rank = [&](const ClaimCandidate& c) {
    return std::make_tuple(c.replicate,
                           parsed.random ? RandomRank(parsed.seed, c.replicate, c.trial_key)
                                         : std::string(),
                           c.spec_index);
  };
  return *std::min_element(candidates.begin(), candidates.end(),
                           [&](const ClaimCandidate& a, const ClaimCandidate& b) {
                             return rank(a) < rank(b);
                           });
}

}  // namespace orch::store
