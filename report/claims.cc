#include "report/claims.h"

#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_set>

#include "report/cell_label.h"
#include "report/number_format.h"

namespace orch::report {
namespace {

std::string Ci(const Interval& ci, std::string (*fmt)(double)) {
  return "[" + fmt(ci.lo) + ", " + fmt(ci.hi) + "]";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Prose FailureProse(const Cell& cell) {
  Prose p;
  p.Text("outcome " + cell.outcome);
  if (cell.outcome == "nan") {
    if (!cell.nan_layer.empty() || cell.nan_token) {
      p.Text(": first non-finite value");
      if (!cell.nan_layer.empty()) p.Text(" in layer ").Code(cell.nan_layer);
      if (cell.nan_token) p.Text(" at token " + std::to_string(*cell.nan_token));
    } else if (!cell.reason.empty()) {
      p.Text(": ").User(cell.reason);
    }
  } else if (cell.outcome == "blocked") {
    p.Text(": ").User(cell.reason.empty() ? "no reason recorded" : cell.reason);
  } else if (cell.outcome == "pending" || cell.outcome == "running") {
    p.Text(" (not done yet)");
  } else {
    if (!cell.error_line.empty()) {
      p.Text(": ").Code(cell.error_line);
      // The reason often repeats the error line ("CUDA out of memory"): say it once.
      if (!cell.reason.empty() &&
          Lower(cell.error_line).find(Lower(cell.reason)) == std::string::npos) {
        p.Text(" (").User(cell.reason).Text(")");
      }
    } else if (!cell.reason.empty()) {
      p.Text(": ").User(cell.reason);
    }
  }
  return p;
}

// "`a` (k1), `b` (k2)" for a list of cells.
enum class Evidence { kNone, kRatio, kPpl };

void AppendCellList(Prose& p, const Study& s, const std::vector<size_t>& idx, Evidence evidence) {
  for (size_t n = 0; n < idx.size(); ++n) {
    const Cell& c = s.cells[idx[n]];
    if (n) p.Text(", ");
    p.Append(CellLabelProse(c, s.varying)).Text(" (");
    const Comparison& cmp = s.comparisons[idx[n]];
    if (evidence == Evidence::kRatio && cmp.ratio) {
      p.Text(FormatRatio(*cmp.ratio) + "x " + Ci(cmp.ratio_ci, FormatRatio) + ", ");
    } else if (evidence == Evidence::kPpl && cmp.ppl_change) {
      p.Text("PPL " + FormatSignedPercent(*cmp.ppl_change) + ", ");
    }
    p.Key(c.short_key).Text(")");
  }
}

}  // namespace

std::string SpeedVerdictText(SpeedVerdict v) {
  switch (v) {
    case SpeedVerdict::kSlower:
      return "slower";
    case SpeedVerdict::kFaster:
      return "faster";
    case SpeedVerdict::kNoDifference:
      return "no measurable difference";
    case SpeedVerdict::kWithinRunOnly:
      return "no claim (one replicate)";
    case SpeedVerdict::kUnavailable:
      return "not compared";
  }
  return "";
}

Prose CellObservation(const Study& study, size_t i, double ppl_tolerance, double min_effect) {
  const Cell& cell = study.cells[i];
  const Comparison& cmp = study.comparisons[i];
  const bool is_baseline = study.baseline && *study.baseline == i;
  Prose p = CellLabelProse(cell, study.varying);
  p.Text(" (").Key(cell.short_key).Text(is_baseline ? ", baseline): " : "): ");
  if (!cell.ok()) {
    p.Append(FailureProse(cell));
  } else {
    // A worker may report a non-finite PPL (stored as "not finite", docs/protocol.md):
    // that is a result, not a missing value.
    p.Text(cell.ppl                     ? "PPL " + FormatPpl(*cell.ppl)
           : cell.metrics.count("ppl") ? "PPL not finite"
                                       : "PPL not recorded");
    if (cell.tpot) {
      p.Text("; TPOT median " + FormatMs(cell.tpot->median) + " ms, 95% CI " +
             Ci(cell.tpot->median_ci, FormatMs) + ", p90 " + FormatMs(cell.tpot->p90) +
             " ms, p99 " + FormatMs(cell.tpot->p99) + " ms, n=" + std::to_string(cell.tpot->count));
    } else if (auto it = cell.metrics.find("tpot_ms_median"); it != cell.metrics.end()) {
      p.Text("; TPOT median " + FormatMs(it->second) +
             " ms as reported by the worker (no per-token samples: no CI)");
    } else {
      p.Text("; no latency recorded");
    }
    if (!is_baseline && study.baseline) {
      const std::string& base_key = study.cells[*study.baseline].short_key;
      if (cmp.ratio) {
        p.Text("; " + FormatRatio(*cmp.ratio) + "x the baseline's median, 95% CI " +
               Ci(cmp.ratio_ci, FormatRatio) + ": ");
        if (cmp.speed == SpeedVerdict::kWithinRunOnly) {
          p.Text("no faster/slower claim from one replicate (the interval covers within-run "
                 "spread only, or the other side's replicates)");
        } else {
          p.Text(SpeedVerdictText(cmp.speed));
          if (cmp.speed == SpeedVerdict::kNoDifference && !cmp.ratio_ci.Contains(1.0))
            p.Text(" (the interval excludes 1 but the change is within the +/-" +
                   FormatPercent(min_effect) + " minimum effect)");
        }
      }
      if (cmp.ppl_change) {
        p.Text("; PPL " + FormatSignedPercent(*cmp.ppl_change) + " vs baseline (");
        p.Text(cmp.ppl == PplVerdict::kStable
                   ? "stable within " + FormatPercent(ppl_tolerance).insert(0, "+/-") + ")"
                   : "beyond the +/-" + FormatPercent(ppl_tolerance) + " tolerance)");
      }
      if (!cmp.unavailable_why.empty())
        p.Text("; not compared with ").Key(base_key).Text(": ").User(cmp.unavailable_why);
    }
    if (cell.peak_memory_bytes) p.Text("; peak memory " + FormatBytes(*cell.peak_memory_bytes));
    p.Text("; outcome ok");
  }
  if (!cell.earlier_attempts.empty()) {
    p.Text("; after " + std::to_string(cell.earlier_attempts.size()) + " failed attempt" +
           (cell.earlier_attempts.size() > 1 ? "s" : "") + " (");
    for (size_t k = 0; k < cell.earlier_attempts.size(); ++k) {
      const EarlierAttempt& e = cell.earlier_attempts[k];
      if (k) p.Text("; ");
      p.Text("#" + std::to_string(e.number) + " " + e.outcome);
      if (!e.detail.empty()) p.Text(": ").Code(e.detail);
    }
    p.Text(")");
  }
  for (const std::string& w : cell.warnings) p.Text("; warning: ").User(w);
  p.Text(".");
  return p;
}

Prose BaselineLine(const Study& s) {
  Prose line;
  if (s.baseline) {
    const Cell& base = s.cells[*s.baseline];
    line.Text("Baseline: ").Append(CellLabelProse(base, s.varying)).Text(" (").Key(base.short_key);
    line.Text("), " + s.baseline_how);
  } else {
    line.Text("No baseline: " + s.baseline_how);
  }
  // The spec's partial config is user text: shown as code, never as markup.
  const nlohmann::json partial =
      nlohmann::json::parse(s.baseline_json.empty() ? "{}" : s.baseline_json, nullptr, false);
  if (partial.is_discarded() || !partial.is_object()) {
    line.Text(" ").Code(s.baseline_json);
  } else if (!partial.empty()) {
    line.Text(" ").Code(partial.dump());
  }
  return line.Text(".");
}

std::string DetectableChangeText(const Sensitivity& s) {
  const std::string reps = std::to_string(s.replicates) + " replicates per cell";
  const std::string spread =
      "between-replicate spread " + FormatPercent(std::expm1(s.spread)) + " of the median";
  if (!std::isfinite(s.detectable)) {
    return "no slowdown up to 100x is found " + FormatPercent(s.power) + " of the time (" +
           reps + ", " + spread + ")";
  }
  return "a slowdown of +" + FormatPercent(s.detectable) + " or more is found " +
         FormatPercent(s.power) + " of the time (" + reps + ", " + spread +
         "); a smaller one can hide in \"no measurable difference\"";
}

std::vector<Prose> StudyClaims(const Study& s, double ppl_tolerance, double min_effect) {
  std::vector<Prose> out;
  Prose head;
  head.Text("Study ").User(s.id).Text(": ");
  if (s.cells.empty()) return out;
  if (s.cells.size() == 1) {
    out.push_back(Prose(head).Text("a single cell, nothing to compare with."));
    return out;
  }
  if (!s.baseline) {
    out.push_back(Prose(head).Text("no baseline (" + s.baseline_how + "); no comparisons."));
    return out;
  }
  const Cell& base = s.cells[*s.baseline];
  if (!base.ok()) {
    out.push_back(Prose(head)
                      .Text("the baseline ")
                      .Key(base.short_key)
                      .Text(" ended " + base.outcome + "; no comparisons."));
    return out;
  }
  // A speed-up whose perplexity broke is not a speed-up a paper may claim: listed apart.
  std::vector<size_t> slower, faster, faster_broken, same, within_run, stable, unstable, apart;
  for (size_t i = 0; i < s.cells.size(); ++i) {
    if (i == *s.baseline || !s.cells[i].ok()) continue;
    const Comparison& c = s.comparisons[i];
    if (c.speed == SpeedVerdict::kSlower) slower.push_back(i);
    bool ppl_changed = c.ppl == PplVerdict::kHigher || c.ppl == PplVerdict::kLower;
    if (c.speed == SpeedVerdict::kFaster) (ppl_changed ? faster_broken : faster).push_back(i);
    if (c.speed == SpeedVerdict::kNoDifference) same.push_back(i);
    if (c.speed == SpeedVerdict::kWithinRunOnly) within_run.push_back(i);
    if (c.ppl == PplVerdict::kStable) stable.push_back(i);
    if (c.ppl == PplVerdict::kHigher || c.ppl == PplVerdict::kLower) unstable.push_back(i);
    if (!c.unavailable_why.empty()) apart.push_back(i);
  }
  Prose speed(head);
  speed.Text("TPOT against the baseline ")
      .Append(CellLabelProse(base, s.varying))
      .Text(" (")
      .Key(base.short_key)
      .Text(")");
  if (slower.empty() && faster.empty() && faster_broken.empty() && same.empty() &&
      within_run.empty()) {
    speed.Text(": no comparable cell.");
  } else {
    const char* sep = ": ";
    if (!slower.empty()) {
      speed.Text(sep).Text("slower: ");
      AppendCellList(speed, s, slower, Evidence::kRatio);
      sep = "; ";
    }
    if (!faster.empty()) {
      speed.Text(sep).Text("faster: ");
      AppendCellList(speed, s, faster, Evidence::kRatio);
      sep = "; ";
    }
    if (!faster_broken.empty()) {
      speed.Text(sep).Text("faster but with PPL beyond +/-" + FormatPercent(ppl_tolerance) +
                           " of the baseline (not a usable speed-up): ");
      AppendCellList(speed, s, faster_broken, Evidence::kRatio);
      sep = "; ";
    }
    if (!same.empty()) {
      speed.Text(sep).Text("no measurable difference: ");
      AppendCellList(speed, s, same, Evidence::kRatio);
      sep = "; ";
    }
    if (!within_run.empty()) {
      speed.Text(sep).Text(
          "no faster/slower claim (one replicate on a side, so the interval does not cover "
          "the spread between worker processes): ");
      AppendCellList(speed, s, within_run, Evidence::kRatio);
    }
    speed.Text(" (95% Student-t CI of the median ratio from the replicates' log medians; a "
               "verdict needs the CI to exclude 1 and a change beyond +/-" +
               FormatPercent(min_effect) + ").");
    if (s.sensitivity) speed.Text(" Sensitivity: " + DetectableChangeText(*s.sensitivity) + ".");
  }
  out.push_back(std::move(speed));  // lists every cell: moved, not copied
  if (!stable.empty() || !unstable.empty()) {
    Prose ppl(head);
    const std::string tol = "+/-" + FormatPercent(ppl_tolerance);
    if (!stable.empty()) {
      ppl.Text("PPL stable within " + tol + " of the baseline for ");
      AppendCellList(ppl, s, stable, Evidence::kPpl);
    }
    if (!unstable.empty()) {
      ppl.Text(stable.empty() ? "PPL changed beyond " + tol + " for "
                              : "; beyond " + tol + " for ");
      AppendCellList(ppl, s, unstable, Evidence::kPpl);
    }
    out.push_back(std::move(ppl.Text(".")));
  }
  if (!apart.empty()) {
    Prose p(head);
    p.Text("not compared with the baseline: ");
    for (size_t n = 0; n < apart.size(); ++n) {
      const Cell& c = s.cells[apart[n]];
      if (n) p.Text("; ");
      p.Append(CellLabelProse(c, s.varying))
          .Text(" (")
          .Key(c.short_key)
          .Text("), ")
          .User(s.comparisons[apart[n]].unavailable_why);
    }
    out.push_back(std::move(p.Text(".")));
  }
  return out;
}

std::optional<Prose> FailureClaim(const std::vector<Study>& studies) {
  // Failures by outcome class, over every study (a cell in two studies counted once).
  std::map<std::string, std::vector<std::pair<const Study*, size_t>>> by_outcome;
  std::unordered_set<std::string_view> seen;
  int total = 0;
  for (const Study& s : studies) {
    for (size_t i = 0; i < s.cells.size(); ++i) {
      const Cell& c = s.cells[i];
      if (!seen.insert(c.key).second) continue;
      ++total;
      if (!c.ok() && c.outcome != "pending" && c.outcome != "running")
        by_outcome[c.outcome].push_back({&s, i});
    }
  }
  if (by_outcome.empty()) return std::nullopt;
  int failed = 0;
  for (const auto& [o, v] : by_outcome) failed += static_cast<int>(v.size());
  Prose p;
  p.Text(std::to_string(failed) + " of " + std::to_string(total) +
         " cells produced no measurements: ");
  bool first = true;
  for (const auto& [outcome, cells] : by_outcome) {
    if (!first) p.Text("; ");
    first = false;
    p.Text(outcome + " " + std::to_string(cells.size()) + " (");
    for (size_t n = 0; n < cells.size(); ++n) {
      const Study& s = *cells[n].first;
      const Cell& c = s.cells[cells[n].second];
      if (n) p.Text(", ");
      p.Append(CellLabelProse(c, s.varying)).Text(" ").Key(c.short_key);
    }
    p.Text(")");
  }
  return p.Text(".");
}

}  // namespace orch::report
