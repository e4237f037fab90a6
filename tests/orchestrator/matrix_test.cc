// Matrix semantics: product, exclude, include both ways (GitHub Actions), precedence.
#include "orchestrator/plan/matrix.h"

#include "orchestrator/plan/config_schema.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

std::vector<Cell> Cells(const std::string& yaml, std::vector<nlohmann::json>* excluded = nullptr) {
  SpecParse p = ParseSpec("m.yaml", yaml);
  EXPECT_TRUE(p.ok()) << (p.errors.empty() ? "" : p.errors[0].ToString());
  std::vector<SpecError> errors;
  auto studies = ExpandStudies(p.spec, &errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].ToString());
  if (studies.empty()) return {};
  if (excluded) *excluded = studies[0].excluded;
  return studies[0].cells;
}

TEST(Matrix, CartesianProductInWrittenOrder) {
  auto cells = Cells(R"(name: s
studies:
  - id: A
    matrix: {quant: [none, int8wo], window: [64, full], dtype: [fp32]}
)");
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[0].combination, (nlohmann::json{{"quant", "none"}, {"window", 64}, {"dtype", "fp32"}}));
  EXPECT_EQ(cells[1].combination["window"], "full");
  EXPECT_EQ(cells[2].combination["quant"], "int8wo");
}

TEST(Matrix, ExcludeRemovesEveryMatchingCombination) {
  std::vector<nlohmann::json> excluded;
  auto cells = Cells(R"(name: s
studies:
  - id: A
    matrix: {quant: [none, int8wo], window: [64, 128, full]}
    exclude:
      - {quant: none, window: 64}
      - {window: 128}
)", &excluded);
  EXPECT_EQ(cells.size(), 3u);
  EXPECT_EQ(excluded.size(), 3u);
}

TEST(Matrix, IncludeExtendsMatchingCombinations) {
  auto cells = Cells(R"(name: s
studies:
  - id: A
    matrix: {quant: [none, int8wo], window: [64, 128]}
    include:
      - {quant: int8wo, scope: mlp}
)");
  ASSERT_EQ(cells.size(), 4u);
  for (const auto& c : cells) {
    EXPECT_EQ(c.config["scope"], c.combination["quant"] == "int8wo" ? "mlp" : "all");
  }
}

TEST(Matrix, IncludeThatContradictsEveryCombinationAddsACell) {
  auto cells = Cells(R"(name: s
studies:
  - id: A
    matrix: {quant: [none, int8wo]}
    include:
      - {quant: int4wo-g64, dtype: bf16}
)");
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[2].config["quant"], "int4wo-g64");
  EXPECT_EQ(cells[2].config["dtype"], "bf16");
  EXPECT_EQ(cells[0].config["dtype"], "fp32");  // original cells untouched
}

TEST(Matrix, IncludeNeverOverwritesAnOriginalAxisValue) {
  auto cells = Cells(R"(name: s
studies:
  - id: A
    matrix: {quant: [none], window: [64]}
    include:
      - {window: 128, n_sink: 0}
)");
  ASSERT_EQ(cells.size(), 2u);  // the original cell stays, a new one is added
  EXPECT_EQ(cells[0].config["window"], 64);
  EXPECT_EQ(cells[0].config["n_sink"], 4);
  EXPECT_EQ(cells[1].config["window"], 128);
  EXPECT_EQ(cells[1].config["n_sink"], 0);
}

TEST(Matrix, StudyWithOnlyIncludeHasItsCells) {
  auto cells = Cells(R"(name: s
studies:
  - id: A
    include:
      - {quant: none}
      - {quant: int8wo}
)");
  EXPECT_EQ(cells.size(), 2u);
}

TEST(Matrix, PrecedenceIsBuiltinThenDefaultsThenStudyThenCombination) {
  auto cells = Cells(R"(name: s
device: cuda
defaults: {dtype: fp16, tokens: 100, n_sink: 2}
studies:
  - id: A
    dtype: bf16
    tokens: 200
    matrix: {tokens: [300]}
)");
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].config["device"], "cuda");  // top-level device
  EXPECT_EQ(cells[0].config["n_sink"], 2);       // defaults
  EXPECT_EQ(cells[0].config["dtype"], "bf16");   // study beats defaults
  EXPECT_EQ(cells[0].config["tokens"], 300);     // combination beats study
  EXPECT_EQ(cells[0].config["compile"], "eager");  // built-in default
}

TEST(Matrix, ExcludeThatRemovesEverythingIsAnError) {
  SpecParse p = ParseSpec("m.yaml", R"(name: s
studies:
  - id: A
    matrix: {quant: [none]}
    exclude: [{quant: none}]
)");
  ASSERT_TRUE(p.ok());
  std::vector<SpecError> errors;
  ExpandStudies(p.spec, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("exclude removes every cell"), std::string::npos);
}

TEST(Matrix, IdentityConfigDropsExecutionPolicy) {
  nlohmann::json c = {{"quant", "none"}, {"timeout", 10}, {"retries", 3}, {"heartbeat_timeout", 5}};
  EXPECT_EQ(IdentityConfig(c), (nlohmann::json{{"quant", "none"}}));
}

TEST(Matrix, QuantizeHeadIsInTheIdentityOnlyWhenTrue) {
  // The default stays out, so the keys of trials from before the key existed do not change.
  nlohmann::json c = {{"quant", "int8wo"}, {"quantize_head", "false"}};
  EXPECT_EQ(IdentityConfig(c), (nlohmann::json{{"quant", "int8wo"}}));
  c["quantize_head"] = "true";
  EXPECT_EQ(IdentityConfig(c), c);
  std::string error;
  EXPECT_EQ(NormalizeValue("quantize_head", "true", &error), nlohmann::json("true"));
  EXPECT_FALSE(NormalizeValue("quantize_head", "yes", &error));
  EXPECT_NE(error.find("false, true"), std::string::npos) << error;
}

TEST(Matrix, OversizedMatrixIsAnErrorBeforeExpansion) {
  // 100^4 = 10^8 cells: refused from the axis sizes alone (expanding would take GBs).
  std::string values;
  for (int i = 0; i < 100; ++i) values += (i ? ", " : "") + std::to_string(i);
  std::string yaml = "name: s\nstudies:\n  - id: A\n    matrix:\n      x_a: &v [" + values +
                     "]\n      x_b: *v\n      x_c: *v\n      x_d: *v\n";
  SpecParse p = ParseSpec("m.yaml", yaml);
  ASSERT_TRUE(p.ok()) << p.errors[0].ToString();
  std::vector<SpecError> errors;
  auto studies = ExpandStudies(p.spec, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            "m.yaml:5:7: studies.A.matrix: the matrix has 100000000 cells (x_a 100 x x_b 100 x "
            "x_c 100 x x_d 100), more than the limit of 1000000; split the study");
  EXPECT_TRUE(studies.empty());
  // Overflowing the product is caught too (20 axes of 100 values: 10^40).
  yaml = "name: s\nstudies:\n  - id: A\n    matrix:\n      x_0: &v [" + values + "]\n";
  for (int i = 1; i < 20; ++i) yaml += "      x_" + std::to_string(i) + ": *v\n";
  p = ParseSpec("m.yaml", yaml);
  ASSERT_TRUE(p.ok());
  errors.clear();
  ExpandStudies(p.spec, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("too many cells"), std::string::npos) << errors[0].message;
}

TEST(Matrix, IncludeAndExcludeThatMatchNothingWarnWithTheirPosition) {
  SpecParse p = ParseSpec("m.yaml", R"(name: s
studies:
  - id: A
    matrix: {quant: [none, int8wo], window: [64, full]}
    exclude:
      - {quant: none, window: 64}
      - {quant: int4wo-g32}
    include:
      - {quant: int8wo, dtype: bf16}
      - {quant: int4wo-g64, window: 32}
)");
  ASSERT_TRUE(p.ok()) << p.errors[0].ToString();
  std::vector<SpecError> errors;
  auto studies = ExpandStudies(p.spec, &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].ToString();
  ASSERT_EQ(studies.size(), 1u);
  const auto& w = studies[0].warnings;
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].ToString(), "m.yaml:7:9: studies.A.exclude[1]: matches no cell of the matrix: "
                             "quant=int4wo-g32 excludes nothing");
  EXPECT_EQ(w[1].ToString(), "m.yaml:10:9: studies.A.include[1]: matches no cell of the matrix: "
                             "quant=int4wo-g64 window=32 is added as a cell of its own");
  EXPECT_EQ(studies[0].cells.size(), 4u);  // 4 - 1 excluded + 1 added
}

}  // namespace
}  // namespace orch
