#include "report/failure_map.h"

#include <gtest/gtest.h>

#include "report/cell_label.h"
#include "report/pdf_figures.h"
#include "report/svg_figures.h"
#include "report_test_util.h"
#include "sweep_builder.h"

namespace orch::report {
namespace {

Cell MapCell(const std::string& quant, const std::string& window, const std::string& outcome,
             const std::string& key, const std::string& dtype = "fp16") {
  Cell c;
  c.key = key + std::string(64 - key.size(), '0');
  c.short_key = c.key.substr(0, 12);
  c.config.quant = quant;
  c.config.window = window;
  c.config.dtype = dtype;
  c.config.fields = {{"quant", quant}, {"window", window}, {"dtype", dtype}};
  c.outcome = outcome;
  return c;
}

// int4 runs out of memory from window 64 up (and at full), none only at full.
Study OomStudy() {
  Study s;
  s.id = "W";
  s.cells = {MapCell("none", "full", "oom", "a1"), MapCell("none", "64", "ok", "a2"),
             MapCell("none", "16", "ok", "a3"),    MapCell("int4", "full", "oom", "b1"),
             MapCell("int4", "64", "oom", "b2"),   MapCell("int4", "16", "ok", "b3"),
             MapCell("int8", "16", "nan", "c3")};
  s.varying = VaryingFields(s.cells);
  return s;
}

TEST(FailureMap, DefaultAxesQuantByWindowNumbersFirst) {
  const FailureMap m = BuildFailureMap(OomStudy());
  EXPECT_EQ(m.row_axis, "quant");
  EXPECT_EQ(m.col_axis, "window");
  EXPECT_EQ(m.rows, (std::vector<std::string>{"none", "int4", "int8"}));
  EXPECT_EQ(m.cols, (std::vector<std::string>{"16", "64", "full"}));
  ASSERT_EQ(m.grid[1][1].size(), 1u);
  EXPECT_EQ(m.grid[1][1][0].outcome, "oom");
  EXPECT_EQ(m.grid[1][1][0].short_key, "b20000000000");
  EXPECT_TRUE(m.grid[2][1].empty());  // int8 x 64: no such cell
}

TEST(FailureMap, FrontierListsWhereEachRowRanOutOfMemory) {
  const FailureMap m = BuildFailureMap(OomStudy());
  ASSERT_EQ(m.frontier.size(), 2u);
  EXPECT_EQ(m.frontier[0].row, "none");
  EXPECT_EQ(m.frontier[0].oom, (std::vector<std::string>{"full"}));
  EXPECT_EQ(m.frontier[0].fits, (std::vector<std::string>{"16", "64"}));
  EXPECT_EQ(m.frontier[1].row, "int4");
  EXPECT_EQ(m.frontier[1].oom, (std::vector<std::string>{"64", "full"}));
  EXPECT_EQ(m.frontier[1].fits, (std::vector<std::string>{"16"}));
}

TEST(FailureMap, FigureDrawsTheFrontierBetweenOomAndOtherCells) {
  const FailureMap m = BuildFailureMap(OomStudy());
  const std::string svg = RenderSvg(m);
  // Frontier edges: none 64|full, int4 16|64, none/int4 at 64 (vertical neighbours).
  size_t thick = 0;
  for (size_t p = svg.find("stroke-width=\"2.50\""); p != std::string::npos;
       p = svg.find("stroke-width=\"2.50\"", p + 1))
    ++thick;
  EXPECT_EQ(thick, 3u);
  EXPECT_NE(svg.find("fill=\"rgb(215,48,39)\""), std::string::npos);  // oom red
  EXPECT_NE(svg.find(">window=full</text>"), std::string::npos);
  EXPECT_NE(svg.find(">b20000000000</text>"), std::string::npos);
  EXPECT_EQ(svg, RenderSvg(BuildFailureMap(OomStudy())));
  const std::string pdf = RenderPdf(m);
  EXPECT_NE(pdf.find(" re f Q"), std::string::npos);
  EXPECT_NE(pdf.find("(window=full) Tj"), std::string::npos);
}

TEST(FailureMap, AxesCanBeChosenAndOtherFieldsShareAGridCell) {
  Study s = OomStudy();
  s.cells.push_back(MapCell("int8", "16", "ok", "d3", "bf16"));
  s.varying = VaryingFields(s.cells);
  const FailureMap m = BuildFailureMap(s, {"window", "quant"});
  EXPECT_EQ(m.row_axis, "window");
  EXPECT_EQ(m.axes_how, "chosen with --map-axes");
  EXPECT_EQ(m.rows, (std::vector<std::string>{"16", "64", "full"}));
  // window 16 x int8: the fp16 cell (nan) and the bf16 cell (ok), told apart by dtype.
  const std::vector<MapEntry>& both = m.grid[0][2];
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].extra, "dtype=fp16");
  EXPECT_EQ(both[1].extra, "dtype=bf16");
}

TEST(FailureMap, OneVaryingFieldGivesOneColumnAndSmallOrFlawlessStudiesNone) {
  Study s;
  s.cells = {MapCell("none", "full", "ok", "a"), MapCell("int4", "full", "oom", "b")};
  s.varying = VaryingFields(s.cells);
  EXPECT_TRUE(WantsFailureMap(s));
  const FailureMap m = BuildFailureMap(s);
  EXPECT_EQ(m.col_axis, "");
  EXPECT_EQ(m.cols, (std::vector<std::string>{"all"}));
  s.cells.resize(1);
  EXPECT_FALSE(WantsFailureMap(s));
  s.cells.push_back(MapCell("int8", "full", "ok", "c"));  // two cells, all ok: no map
  EXPECT_FALSE(WantsFailureMap(s));
}

class FailureMapReport : public testing::TempDb {};

TEST_F(FailureMapReport, MarkdownShowsTheGridAndTheFrontierWithKeys) {
  auto db = Open();
  testing::AttemptSpec ok, oom;
  oom.outcome = "oom";
  oom.reason = "CUDA out of memory";
  std::vector<testing::CellSpec> cells;
  for (const char* quant : {"none", "int4"}) {
    for (const char* window : {"full", "64", "16"}) {
      const bool fails = std::string(window) != "16" && std::string(quant) == "int4";
      cells.push_back(
          {"W", testing::Config({{"quant", quant}, {"window", window}}), {fails ? oom : ok}});
    }
  }
  ASSERT_TRUE(testing::BuildSweep(*db, "oom", cells).ok());
  const ReportFiles files = Render(*db);
  const std::string md = files.at("report.md");
  EXPECT_NE(md.find("| quant | window=16 | window=64 | window=full |"), std::string::npos) << md;
  EXPECT_NE(md.find("- quant `int4`: out of memory at window `64`, `full`; ok at window `16`\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `int4` | ok `"), std::string::npos);
  EXPECT_NE(md.find("| **OOM** `"), std::string::npos);
  EXPECT_TRUE(files.count("figures/map-W.svg") && files.count("figures/map-W.pdf"));
  EXPECT_NE(files.at("tables.tex").find("\\textbf{oom}"), std::string::npos);
}

}  // namespace
}  // namespace orch::report
