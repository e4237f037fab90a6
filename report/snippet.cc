#include "report/snippet.h"

#include <map>
#include <set>
#include <unordered_set>

#include "report/cell_label.h"
#include "report/latex_writer.h"
#include "report/markdown_writer.h"
#include "report/number_format.h"

namespace orch::report {
namespace {

std::string JoinList(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += (i + 1 == v.size()) ? (v.size() > 2 ? ", and " : " and ") : ", ";
    out += v[i];
  }
  return out;
}

std::string Ci(const Interval& ci) {
  return "[" + FormatRatio(ci.lo) + ", " + FormatRatio(ci.hi) + "]";
}

// The sweep's distinct cells, counted once each.
struct CellTally {
  std::unordered_set<std::string_view> keys;
  std::set<int64_t> repeats;    // replicates as in-process repeats (older sweeps)
  std::set<int64_t> processes;  // replicates as fresh worker processes
  int ok = 0;
  std::map<std::string, int> failed;
};

CellTally TallyCells(const ReportModel& model) {
  CellTally t;
  for (const Study& s : model.studies) {
    for (const Cell& c : s.cells) {
      if (!t.keys.insert(c.key).second) continue;
      if (c.ok()) {
        ++t.ok;
        if (c.tpot && c.replicate_processes > 1) {
          t.processes.insert(c.replicate_processes);
        } else if (c.tpot) {
          t.repeats.insert(static_cast<int64_t>(c.tpot->replicates));
        }
      } else if (c.outcome != "pending" && c.outcome != "running") {
        ++t.failed[c.outcome];
      }
    }
  }
  return t;
}

Prose Question(const ReportModel& model, const CellTally& t, const std::string& tol) {
  Prose question;
  question.Text("We asked which of " + std::to_string(t.keys.size()) + " configurations");
  if (!model.models.empty()) question.Text(" of ").User(JoinList(model.models));
  question.Text(" decode faster than their study's baseline while keeping perplexity within " +
                tol + ".");
  return question;
}

void Evidence(Prose& p, const Study& s, size_t i) {
  const Comparison& c = s.comparisons[i];
  p.Append(CellLabelProse(s.cells[i], s.varying))
      .Text(" in study ")
      .User(s.id)
      .Text(": " + FormatRatio(*c.ratio) + "x the baseline's median TPOT (95% CI " +
            Ci(c.ratio_ci) + ", ")
      .Key(s.cells[i].short_key)
      .Text(")");
}

// Headline: the lowest ratio among cells judged faster with stable PPL; else the lowest
// ratio at stable PPL, to show how close the data came.
Prose Headline(const ReportModel& model, const std::string& tol) {
  const Study* best_study = nullptr;
  size_t best = 0;
  const Study* closest_study = nullptr;
  size_t closest = 0;
  int within_run = 0, faster_broken = 0;
  for (const Study& s : model.studies) {
    for (size_t i = 0; i < s.cells.size(); ++i) {
      const Comparison& c = s.comparisons[i];
      if (c.speed == SpeedVerdict::kWithinRunOnly) ++within_run;
      if (c.speed == SpeedVerdict::kFaster && c.ppl != PplVerdict::kStable) ++faster_broken;
      if (!c.ratio || c.ppl != PplVerdict::kStable) continue;
      if (c.speed == SpeedVerdict::kFaster &&
          (!best_study || *c.ratio < *best_study->comparisons[best].ratio)) {
        best_study = &s;
        best = i;
      }
      if (c.speed != SpeedVerdict::kWithinRunOnly &&
          (!closest_study || *c.ratio < *closest_study->comparisons[closest].ratio)) {
        closest_study = &s;
        closest = i;
      }
    }
  }
  Prose headline;
  if (best_study) {
    headline.Text("The best speed-up at stable perplexity was ");
    Evidence(headline, *best_study, best);
    headline.Text(".");
  } else {
    headline.Text("No configuration was measurably faster than its baseline at stable perplexity");
    if (closest_study) {
      headline.Text("; the lowest ratio was ");
      Evidence(headline, *closest_study, closest);
    }
    headline.Text(".");
  }
  if (faster_broken > 0) {
    headline.Text(" " + std::to_string(faster_broken) +
                  (faster_broken == 1 ? " configuration was" : " configurations were") +
                  " faster only with perplexity beyond " + tol + ".");
  }
  if (within_run > 0) {
    headline.Text(" " + std::to_string(within_run) +
                  (within_run == 1 ? " comparison rests on one replicate and supports"
                                   : " comparisons rest on one replicate and support") +
                  " no speed claim.");
  }
  return headline;
}

Prose Failures(const ReportModel& model, const CellTally& t) {
  Prose failures;
  failures.Text(std::to_string(t.ok) + " of " + std::to_string(t.keys.size()) +
                " configurations produced measurements");
  if (!t.failed.empty()) {
    int n_failed = 0;
    std::vector<std::string> parts;
    for (const auto& [o, n] : t.failed) {
      parts.push_back(o + " " + std::to_string(n));
      n_failed += n;
    }
    failures.Text("; " + std::to_string(n_failed) + " failed (" + JoinList(parts) + ")");
  }
  if (model.unfinished > 0)
    failures.Text("; " + std::to_string(model.unfinished) + " were not run");
  return failures.Text(".");
}

Prose Method(const ReportModel& model, const CellTally& t) {
  Prose method;
  method.Text("TPOT is the median per-token latency");
  if (!model.tokens.empty()) method.Text(" over " + JoinList(model.tokens) + " decoded tokens");
  auto numbers = [](const std::set<int64_t>& ns) {
    std::vector<std::string> r;
    for (int64_t n : ns) r.push_back(std::to_string(n));
    return JoinList(r);
  };
  if (!t.processes.empty()) {
    // The recorded claim order (store/claim_order.h): "interleaved" or "random:SEED".
    const std::string& order = model.sweep.claim_order;
    method.Text(" x " + numbers(t.processes) + " replicates (fresh processes, " +
                (order.rfind("random:", 0) == 0
                     ? "in a seeded random order per round, seed " + order.substr(7)
                     : std::string("interleaved")) +
                ")");
  }
  if (!t.repeats.empty()) {
    method.Text((t.processes.empty() ? " x " : " or ") + numbers(t.repeats) +
                (t.repeats.size() == 1 && *t.repeats.begin() == 1
                     ? " repeat"
                     : " repeats in one worker process"));
  }
  if (!model.hardware.empty()) method.Text(" on ").User(JoinList(model.hardware));
  const bool one_replicate = t.processes.empty() && t.repeats == std::set<int64_t>{1};
  method.Text(one_replicate
                  // stats.h: exact binomial intervals; one run says nothing across runs
                  ? std::string(", with 95% order-statistic intervals over the tokens (one "
                                "replicate: the spread within one run only)")
                  : std::string(", with 95% Student-t intervals on the ") +
                        (t.repeats.empty() && !t.processes.empty() ? "replicates'" : "repeats'") +
                        " log medians");
  method.Text("; a difference "
              "counts only when the interval of the ratio excludes 1 and the change exceeds +/-" +
              FormatPercent(model.min_effect) + ".");
  return method;
}

}  // namespace

std::vector<Prose> BuildSnippet(const ReportModel& model) {
  // A paragraph a paper can quote (under ~150 words): the question, the headline, the
  // failures by class, one sentence of method. Per-cell detail stays in the tables.
  const CellTally tally = TallyCells(model);
  const std::string tol = "+/-" + FormatPercent(model.ppl_tolerance);
  return {Question(model, tally, tol), Headline(model, tol), Failures(model, tally),
          Method(model, tally)};
}

std::string RenderSnippetMarkdown(const std::vector<Prose>& snippet) {
  std::string out;
  for (const Prose& p : snippet) out += (out.empty() ? "" : " ") + RenderProseMarkdown(p);
  return out + "\n";
}

std::string RenderSnippetLatex(const std::vector<Prose>& snippet) {
  std::string out = "% Generated by orch report; needs T1 fontenc.\n";
  for (const Prose& p : snippet) out += RenderProseLatex(p) + "\n";
  return out;
}

}  // namespace orch::report
