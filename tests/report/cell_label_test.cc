#include "report/cell_label.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace orch::report {
namespace {

Cell CellWith(const std::string& quant, const std::string& window, const std::string& extra = "") {
  Cell c;
  c.config.quant = quant;
  c.config.window = window;
  c.config.fields = {{"quant", quant}, {"window", window}};
  if (!extra.empty()) c.config.fields.Set("x_behavior", extra);
  return c;
}

TEST(CellLabel, NamesTheVaryingFields) {
  std::vector<Cell> cells = {CellWith("int8wo", "full"), CellWith("int8wo", "256")};
  EXPECT_EQ(VaryingFields(cells), std::vector<std::string>{"window"});
  EXPECT_EQ(CellLabel(cells[1], VaryingFields(cells)), "int8wo window=256");
}

TEST(CellLabel, IncludesMatrixExtrasSoCellsReadDifferently) {
  std::vector<Cell> cells = {CellWith("none", "full", "ok"), CellWith("none", "full", "nan")};
  EXPECT_EQ(VaryingFields(cells), std::vector<std::string>{"x_behavior"});
  EXPECT_EQ(CellLabel(cells[1], VaryingFields(cells)), "none x_behavior=nan");
  EXPECT_EQ(TableVariantExtras(cells[1], VaryingFields(cells)), "x_behavior=nan");
}

TEST(CellLabel, TableExtrasLeaveOutColumnsTheTableHas) {
  std::vector<Cell> cells = {CellWith("int8wo", "full"), CellWith("none", "256")};
  EXPECT_EQ(TableVariantExtras(cells[0], VaryingFields(cells)), "");
}

}  // namespace
}  // namespace orch::report
