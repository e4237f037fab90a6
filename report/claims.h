// Claims: the sentences the report makes, built as Prose from computed comparisons —
// one observation per cell (numbers with their trial keys, failures with their cause),
// the baseline line, and the per-study and sweep-wide conclusions. The wording encodes
// the rules: "slower"/"faster" only from a CI excluding 1, "PPL stable" only with its
// tolerance. Pure functions of the Study values; any thread.
#pragma once

#include <optional>
#include <vector>

#include "report/model.h"
#include "report/prose.h"

namespace orch::report {

// What the report says about cell `i` of `study` (comparisons must be filled).
// `min_effect`: the relative TPOT change a faster/slower verdict needed (FactsOptions).
Prose CellObservation(const Study& study, size_t i, double ppl_tolerance, double min_effect);

// "Baseline: `none` (key), named in the spec `{...}`." or why there is none.
Prose BaselineLine(const Study& study);

// The study's conclusions: speed verdicts, PPL stability, cells not compared.
std::vector<Prose> StudyClaims(const Study& study, double ppl_tolerance, double min_effect);

// "a slowdown of +6.1% or more is found 80% of the time (3 replicates per cell, between-
// replicate spread 2.3% of the median); a smaller one can hide in \"no measurable
// difference\"" (Sensitivity); the report's words for a study's detectable change.
std::string DetectableChangeText(const Sensitivity& s);

// Cells without measurements by outcome class, each cell once; nullopt when none.
std::optional<Prose> FailureClaim(const std::vector<Study>& studies);

}  // namespace orch::report
