// FlatConfigScan: reads a trial's config_json without building a JSON document, when the
// text is exactly what nlohmann's compact dump of a flat object gives (keys sorted, no
// spaces, ASCII strings without escapes, integers, true/false/null) — what the store
// records for every trial. At 100,000 trials the DOM parse, re-dump and string copies of
// each config were ~8% of `orch report` (issue 18). Any other text gets nullopt and the
// caller parses it in full, so a config's field texts never depend on which path read it.
// Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace orch::report {

struct FlatScalar {
  std::string_view key;
  std::string_view text;  // as the report displays it: a string's characters, an
                          // integer's digits, "true"/"false", "" for null
  bool integer = false;   // a JSON number (then `value` holds it)
  int64_t value = 0;
  std::string_view token;  // the value as the text writes it: "\"x\"", 12, true, null
};

// The members of `json` in key order (views into `json`), or nullopt unless `json` is
// byte for byte the compact sorted dump of a flat object of the kinds above (integers
// of at most 18 digits, so none overflows int64).
std::optional<std::vector<FlatScalar>> ScanCanonicalFlatConfig(std::string_view json);
// Whether ScanCanonicalFlatConfig would read `json` (then it is valid JSON), without
// collecting the members.
bool IsCanonicalFlatConfig(std::string_view json);

}  // namespace orch::report
