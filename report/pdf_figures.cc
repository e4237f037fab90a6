#include "report/pdf_figures.h"

#include <fmt/format.h>

#include <vector>

#include "report/number_format.h"
#include "report/text_escape.h"

namespace orch::report {
namespace {

std::string N(double v) { return FormatFixed(v, 2); }

std::string Rgb(Color c) {
  return FormatFixed(c.r / 255.0, 3) + " " + FormatFixed(c.g / 255.0, 3) + " " +
         FormatFixed(c.b / 255.0, 3);
}

// Draws in PDF user space: y flipped so callers keep top-left coordinates.
class PdfCanvas : public Canvas {
 public:
  explicit PdfCanvas(double height) : height_(height) {}
  void Line(double x1, double y1, double x2, double y2, Color color, double width,
            bool dashed) override {
    out_ += "q " + Rgb(color) + " RG " + N(width) + " w " + (dashed ? "[4 3] 0 d " : "") + N(x1) +
            " " + N(height_ - y1) + " m " + N(x2) + " " + N(height_ - y2) + " l S Q\n";
  }
  void Circle(double cx, double cy, double r, Color fill) override {
    // Four cubic Beziers; k = 4/3 (sqrt(2) - 1) approximates a quarter circle.
    const double k = 0.5523 * r, y = height_ - cy;
    out_ += "q " + Rgb(fill) + " rg " + N(cx + r) + " " + N(y) + " m " + N(cx + r) + " " +
            N(y + k) + " " + N(cx + k) + " " + N(y + r) + " " + N(cx) + " " + N(y + r) + " c " +
            N(cx - k) + " " + N(y + r) + " " + N(cx - r) + " " + N(y + k) + " " + N(cx - r) + " " +
            N(y) + " c " + N(cx - r) + " " + N(y - k) + " " + N(cx - k) + " " + N(y - r) + " " +
            N(cx) + " " + N(y - r) + " c " + N(cx + k) + " " + N(y - r) + " " + N(cx + r) + " " +
            N(y - k) + " " + N(cx + r) + " " + N(y) + " c f Q\n";
  }
  void Rect(double x, double y, double w, double h, Color fill) override {
    out_ += "q " + Rgb(fill) + " rg " + N(x) + " " + N(height_ - y - h) + " " + N(w) + " " + N(h) +
            " re f Q\n";
  }
  void Text(double x, double y, std::string_view text, const TextStyle& s) override {
    const double w = HelveticaWidth(text, s.size);
    const double x0 = s.anchor == Anchor::kStart    ? x
                      : s.anchor == Anchor::kMiddle ? x - w / 2
                                                    : x - w;
    out_ += "BT " + Rgb(s.color) + " rg /" + (s.bold ? "F2 " : "F1 ") + N(s.size) + " Tf " + N(x0) +
            " " + N(height_ - y) + " Td (" + PdfStringEscape(text) + ") Tj ET\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  double height_;
  std::string out_;
};

std::string PdfDocument(FigureSize size, const std::string& content) {
  std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + N(size.width) + " " + N(size.height) +
          "] /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "endstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
  };
  // A binary comment line after the header marks the file as binary for transfer tools.
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) pdf += fmt::format("{:010d} 00000 n \n", off);
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace

std::string RenderPdf(const DotPlot& plot) {
  const FigureSize size = PlotSize(plot);
  PdfCanvas canvas(size.height);
  DrawDotPlot(plot, canvas);
  return PdfDocument(size, canvas.Take());
}

std::string RenderPdf(const FailureMap& map) {
  const FigureSize size = FailureMapSize(map);
  PdfCanvas canvas(size.height);
  DrawFailureMap(map, canvas);
  return PdfDocument(size, canvas.Take());
}

}  // namespace orch::report
