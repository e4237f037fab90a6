#include "report/figures.h"

#include <gtest/gtest.h>

#include <regex>

#include "report/pdf_figures.h"
#include "report/svg_figures.h"

namespace orch::report {
namespace {

DotPlot Sample() {
  DotPlot p;
  p.title = "TPOT <&> study";
  p.x_label = "ms";
  p.rows.push_back({"none", 10.0, Interval{9.8, 10.2}, "", "10.00 ms", "aaaaaaaaaaaa", true});
  p.rows.push_back(
      {"int8wo (x)", 12.5, Interval{12.1, 12.9}, "", "12.50 ms", "bbbbbbbbbbbb", false});
  p.rows.push_back({"int4wo", std::nullopt, std::nullopt, "oom", "", "cccccccccccc", false});
  p.reference = 10.0;
  return p;
}

TEST(AxisTicks, NiceLinearAndLogSteps) {
  EXPECT_EQ(AxisTicks(0, 10, false), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(AxisTicks(9.3, 12.9, false), (std::vector<double>{10, 11, 12}));
  EXPECT_EQ(AxisTicks(15, 600, true), (std::vector<double>{20, 50, 100, 200, 500}));
}

TEST(Svg, EscapesTextAndDrawsEveryRow) {
  const std::string svg = RenderSvg(Sample());
  EXPECT_NE(svg.find("TPOT &lt;&amp;&gt; study"), std::string::npos);
  EXPECT_EQ(svg.find("<&>"), std::string::npos);
  EXPECT_NE(svg.find(">oom</text>"), std::string::npos);  // failures as text, not points
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 10, true);
  size_t circles = 0;
  for (size_t p = svg.find("<circle"); p != std::string::npos; p = svg.find("<circle", p + 1))
    ++circles;
  EXPECT_EQ(circles, 2u);
  EXPECT_EQ(svg, RenderSvg(Sample()));
  EXPECT_NE(svg.rfind("</svg>\n"), std::string::npos);
}

TEST(Pdf, XrefOffsetsPointAtTheirObjects) {
  const std::string pdf = RenderPdf(Sample());
  ASSERT_EQ(pdf.rfind("%PDF-1.4", 0), 0u);
  const size_t startxref = pdf.rfind("startxref\n");
  ASSERT_NE(startxref, std::string::npos);
  const size_t xref = std::stoul(pdf.substr(startxref + 10));
  ASSERT_EQ(pdf.compare(xref, 5, "xref\n"), 0);
  std::regex entry("(\\d{10}) 00000 n ");
  auto begin = std::sregex_iterator(pdf.begin() + xref, pdf.end(), entry);
  int n = 1;
  for (auto it = begin; it != std::sregex_iterator(); ++it, ++n) {
    const size_t off = std::stoul((*it)[1]);
    EXPECT_EQ(pdf.compare(off, std::to_string(n).size() + 6, std::to_string(n) + " 0 obj"), 0) << n;
  }
  EXPECT_EQ(n, 7);
  // The content stream's /Length matches its bytes.
  const size_t len_at = pdf.find("/Length ");
  const size_t length = std::stoul(pdf.substr(len_at + 8));
  const size_t stream = pdf.find("stream\n", len_at) + 7;
  EXPECT_EQ(pdf.compare(stream + length, 9, "endstream"), 0);
  EXPECT_NE(pdf.find("(int8wo \\(x\\)) Tj"), std::string::npos);
  EXPECT_EQ(pdf, RenderPdf(Sample()));
}

}  // namespace
}  // namespace orch::report
