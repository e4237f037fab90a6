#include "report/pairing.h"

#include <gtest/gtest.h>

#include <regex>

#include "report/contrast.h"
#include "report_test_util.h"
#include "sweep_builder.h"

namespace orch::report {
namespace {

using testing::AttemptSpec;
using testing::CellSpec;
using testing::Config;
using testing::OkAttempt;

AttemptSpec Oom() {
  AttemptSpec a;
  a.outcome = "oom";
  a.reason = "CUDA out of memory";
  a.stderr_tail = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB\n";
  a.exit_code = 1;
  return a;
}

// Two stacks over three variants: the reference stack is 2x slower on none, runs out of
// memory on int4 where orch does not; int8 only on orch.
std::vector<CellSpec> StackCells() {
  return {
      {"S", Config({{"worker", "orch"}, {"quant", "none"}, {"timeout", 100}}), {OkAttempt(10)}},
      {"S", Config({{"worker", "reference"}, {"quant", "none"}, {"timeout", 900}}), {OkAttempt(20, 20.1)}},
      {"S", Config({{"worker", "orch"}, {"quant", "int4"}}), {OkAttempt(8)}},
      {"S", Config({{"worker", "reference"}, {"quant", "int4"}}), {Oom()}},
      {"S", Config({{"worker", "orch"}, {"quant", "int8"}}), {OkAttempt(9)}},
  };
}

class Pairing : public testing::TempDb {};

TEST_F(Pairing, CellsDifferingOnlyInTheKeyArePairedAgainstTheReference) {
  auto db = Open();
  ASSERT_TRUE(testing::BuildSweep(*db, "stacks", StackCells()).ok());
  const ReportFiles files = Render(*db);
  const std::string md = files.at("report.md");
  EXPECT_NE(md.find("## 4. Stack comparison: worker"), std::string::npos) << md;
  EXPECT_NE(md.find("## 5. Conclusion"), std::string::npos);
  // none: orch 10 ms vs reference 20 ms (policy key timeout differs and is ignored).
  static const std::regex kNoneRow(
      "\\| none \\| `orch` \\| ok \\| ok \\| \\d+\\.\\d\\d \\[[^\\]]+\\] \\| "
      "\\d+\\.\\d\\d \\[[^\\]]+\\] \\| 0\\.(49|50)\\d \\[[^\\]]+\\] faster \\|");
  EXPECT_TRUE(std::regex_search(md, kNoneRow)) << md;
  EXPECT_NE(md.find("-0.5% stable"), std::string::npos) << md;
  // int4: the failure only the reference stack has, with its first error line.
  EXPECT_NE(md.find("**Failures one stack has and the other not.**\n\n- int4: `reference` "
                    "**oom** (`torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 "
                    "GiB`)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find(", `orch` ok `"), std::string::npos) << md;
  EXPECT_NE(md.find("no cell with worker=reference has the same configuration"), std::string::npos);
  EXPECT_NE(files.at("tables.tex").find("\\label{tab:orch-stacks}"), std::string::npos);
}

TEST_F(Pairing, PairsGenericallyOnAnyKeyAndNeedsTwoValues) {
  std::vector<Cell> cells(3);
  const char* values[] = {"a100", "h100", "a100"};
  const char* quants[] = {"none", "none", "int4"};
  for (int i = 0; i < 3; ++i) {
    cells[i].key = std::string(64, static_cast<char>('a' + i));
    cells[i].short_key = cells[i].key.substr(0, 12);
    cells[i].outcome = "ok";
    cells[i].config.quant = quants[i];
    cells[i].config.json = nlohmann::json{{"x_gpu", values[i]}, {"quant", quants[i]}}.dump();
    cells[i].config.fields = {{"x_gpu", values[i]}, {"quant", quants[i]}};
  }
  PairingOptions opts;
  opts.key = "x_gpu";
  opts.reference_value = "missing";  // falls back to the first value in spec order
  std::optional<KeyPairing> p = PairOnKey(cells, opts);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reference_value, "a100");
  ASSERT_EQ(p->pairs.size(), 1u);
  EXPECT_EQ(p->pairs[0].reference.key, cells[0].key);
  EXPECT_EQ(p->pairs[0].other.key, cells[1].key);
  ASSERT_EQ(p->unpaired.size(), 1u);
  EXPECT_EQ(p->unpaired[0].cell.key, cells[2].key);
  opts.key = "worker";  // no cell has it
  EXPECT_FALSE(PairOnKey(cells, opts).has_value());
  cells[1].config.fields.Set("x_gpu", "a100");  // one value only
  opts.key = "x_gpu";
  EXPECT_FALSE(PairOnKey(cells, opts).has_value());
}

TEST_F(Pairing, NoKeyNoSection) {
  auto db = Open();
  ASSERT_TRUE(
      testing::BuildSweep(*db, "plain",
                          {{"S", Config(), {OkAttempt(10)}}, {"S", Config({{"quant", "int8"}}), {OkAttempt(9)}}})
          .ok());
  const std::string md = Render(*db).at("report.md");
  EXPECT_EQ(md.find("Stack comparison"), std::string::npos);
  EXPECT_NE(md.find("## 4. Conclusion"), std::string::npos);
}

}  // namespace
}  // namespace orch::report
