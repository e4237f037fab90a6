#include "report/claims.h"

#include <gtest/gtest.h>

namespace orch::report {
namespace {

Cell OkCell(const std::string& key, const std::string& quant) {
  Cell c;
  c.key = key + std::string(64 - key.size(), '0');
  c.short_key = c.key.substr(0, 12);
  c.config.quant = quant;
  c.config.fields = {{"quant", quant}};
  c.outcome = "ok";
  return c;
}

Study TwoCellStudy() {
  Study s;
  s.id = "A";
  s.cells = {OkCell("aaaa", "none"), OkCell("bbbb", "int8wo")};
  s.varying = {"quant"};
  s.baseline = 0;
  s.baseline_how = "named in the spec";
  s.baseline_json = R"({"quant":"none"})";
  s.comparisons.resize(2);
  return s;
}

std::string Join(const std::vector<Prose>& v) {
  std::string out;
  for (const Prose& p : v) out += p.PlainText() + "\n";
  return out;
}

TEST(StudyClaims, SlowerOnlyWithItsRatioAndInterval) {
  Study s = TwoCellStudy();
  s.comparisons[1].ratio = 1.25;
  s.comparisons[1].ratio_ci = {1.2, 1.3};
  s.comparisons[1].speed = SpeedVerdict::kSlower;
  const std::string text = Join(StudyClaims(s, 0.01, 0.02));
  EXPECT_NE(text.find("slower: int8wo (1.250x [1.200, 1.300], bbbb00000000)"), std::string::npos)
      << text;
}

TEST(StudyClaims, NoComparisonsWhenTheBaselineFailed) {
  Study s = TwoCellStudy();
  s.cells[0].outcome = "oom";
  const std::string text = Join(StudyClaims(s, 0.01, 0.02));
  EXPECT_NE(text.find("the baseline aaaa00000000 ended oom; no comparisons"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("slower"), std::string::npos);
}

TEST(StudyClaims, SingleCellHasNothingToCompare) {
  Study s = TwoCellStudy();
  s.cells.resize(1);
  s.comparisons.resize(1);
  EXPECT_NE(Join(StudyClaims(s, 0.01, 0.02)).find("nothing to compare"), std::string::npos);
}

TEST(FailureClaim, CountsACellInTwoStudiesOnce) {
  Study a = TwoCellStudy(), b = TwoCellStudy();
  a.cells[1].outcome = b.cells[1].outcome = "nan";
  const std::optional<Prose> claim = FailureClaim({a, b});
  ASSERT_TRUE(claim);
  EXPECT_NE(claim->PlainText().find("1 of 2 cells produced no measurements: nan 1"),
            std::string::npos)
      << claim->PlainText();
  EXPECT_FALSE(FailureClaim({TwoCellStudy()}));
}

TEST(BaselineLine, ShowsTheSpecsPartialConfigAsCode) {
  const Prose line = BaselineLine(TwoCellStudy());
  ASSERT_GE(line.spans().size(), 2u);
  bool as_code = false;
  for (const Span& sp : line.spans()) {
    as_code |= sp.kind == SpanKind::kCode && sp.text == R"({"quant":"none"})";
  }
  EXPECT_TRUE(as_code);
}

TEST(CellObservation, FailedCellsGiveTheirCause) {
  Study s = TwoCellStudy();
  s.cells[1].outcome = "oom";
  s.cells[1].reason = "CUDA out of memory";
  s.cells[1].error_line = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB";
  const std::string text = CellObservation(s, 1, 0.01, 0.02).PlainText();
  EXPECT_EQ(text,
            "int8wo (bbbb00000000): outcome oom: torch.OutOfMemoryError: CUDA out of "
            "memory. Tried to allocate 2 GiB.");
}

}  // namespace
}  // namespace orch::report
