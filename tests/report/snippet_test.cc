#include "report/snippet.h"

#include <gtest/gtest.h>

#include <sstream>

namespace orch::report {
namespace {

Cell MakeCell(const std::string& key, const std::string& quant, const std::string& outcome,
              size_t replicates = 3) {
  Cell c;
  c.key = key + std::string(64 - key.size(), '0');
  c.short_key = c.key.substr(0, 12);
  c.config.quant = quant;
  c.config.fields = {{"quant", quant}};
  c.outcome = outcome;
  if (outcome == "ok") {
    c.tpot = LatencySummary{};
    c.tpot->median = 10;
    c.tpot->replicates = replicates;
  }
  return c;
}

Comparison Compared(double ratio, Interval ci, SpeedVerdict speed, PplVerdict ppl) {
  Comparison c;
  c.ratio = ratio;
  c.ratio_ci = ci;
  c.speed = speed;
  c.ppl = ppl;
  c.ppl_change = 0.001;
  return c;
}

// Study A: baseline none, int8wo 0.90x faster, int4wo 0.80x faster, int2 0.70x faster
// with broken PPL, two failed cells (oom, nan).
ReportModel Model() {
  ReportModel m;
  m.models = {"pythia-70m"};
  m.hardware = {"NVIDIA H100"};
  m.tokens = {"128"};
  Study s;
  s.id = "A";
  s.varying = {"quant"};
  s.cells = {MakeCell("aaaa", "none", "ok"),   MakeCell("bbbb", "int8wo", "ok"),
             MakeCell("cccc", "int4wo", "ok"), MakeCell("dddd", "int2", "ok"),
             MakeCell("eeee", "int1", "oom"),  MakeCell("ffff", "int0", "nan")};
  s.baseline = 0;
  s.comparisons.resize(s.cells.size());
  s.comparisons[1] = Compared(0.90, {0.85, 0.95}, SpeedVerdict::kFaster, PplVerdict::kStable);
  s.comparisons[2] = Compared(0.80, {0.78, 0.82}, SpeedVerdict::kFaster, PplVerdict::kStable);
  s.comparisons[3] = Compared(0.70, {0.68, 0.72}, SpeedVerdict::kFaster, PplVerdict::kHigher);
  m.studies.push_back(s);
  return m;
}

std::string Text(const ReportModel& m) {
  std::string out;
  for (const Prose& p : BuildSnippet(m)) out += p.PlainText() + " ";
  return out;
}

size_t Words(const std::string& s) {
  std::istringstream in(s);
  size_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

TEST(Snippet, HeadlineIsTheBestSpeedUpAtStablePerplexityWithItsInterval) {
  const std::string t = Text(Model());
  EXPECT_NE(t.find("We asked which of 6 configurations of pythia-70m decode faster"),
            std::string::npos)
      << t;
  // int2 is faster still, but its perplexity broke: not the headline.
  EXPECT_NE(t.find("The best speed-up at stable perplexity was int4wo in study A: 0.800x the "
                   "baseline's median TPOT (95% CI [0.780, 0.820], cccc00000000)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("1 configuration was faster only with perplexity beyond +/-1.0%"),
            std::string::npos)
      << t;
  EXPECT_LT(Words(t), 150u) << t;
}

TEST(Snippet, FailuresByClassWithCountsAndOneSentenceOfMethod) {
  const std::string t = Text(Model());
  EXPECT_NE(t.find("4 of 6 configurations produced measurements; 2 failed (nan 1 and oom 1)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("over 128 decoded tokens x 3 repeats in one worker process on NVIDIA H100"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("excludes 1 and the change exceeds +/-2.0%."), std::string::npos) << t;
  // Per-cell detail stays in the tables: the merely-faster int8wo is not listed.
  EXPECT_EQ(t.find("bbbb00000000"), std::string::npos) << t;
}

TEST(Snippet, NoSpeedUpSaysSoWithTheClosestRatio) {
  ReportModel m = Model();
  Study& s = m.studies[0];
  s.comparisons[1] = Compared(0.99, {0.97, 1.01}, SpeedVerdict::kNoDifference, PplVerdict::kStable);
  s.comparisons[2] = Compared(1.20, {1.10, 1.30}, SpeedVerdict::kSlower, PplVerdict::kStable);
  const std::string t = Text(m);
  EXPECT_NE(t.find("No configuration was measurably faster than its baseline at stable "
                   "perplexity; the lowest ratio was int8wo in study A: 0.990x the baseline's "
                   "median TPOT (95% CI [0.970, 1.010], bbbb00000000)."),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("best speed-up"), std::string::npos) << t;
}

TEST(Snippet, OneReplicateSupportsNoClaim) {
  ReportModel m = Model();
  Study& s = m.studies[0];
  for (Cell& c : s.cells)
    if (c.tpot) c.tpot->replicates = 1;
  for (size_t i = 1; i < 4; ++i) s.comparisons[i].speed = SpeedVerdict::kWithinRunOnly;
  const std::string t = Text(m);
  EXPECT_NE(t.find("No configuration was measurably faster"), std::string::npos) << t;
  EXPECT_NE(t.find("3 comparisons rest on one replicate and support no speed claim"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("x 1 repeat on"), std::string::npos) << t;
}

}  // namespace
}  // namespace orch::report
