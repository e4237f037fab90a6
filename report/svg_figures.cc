#include "report/svg_figures.h"

#include <fmt/format.h>

#include "report/number_format.h"
#include "report/text_escape.h"

namespace orch::report {
namespace {

std::string N(double v) { return FormatFixed(v, 2); }

std::string Rgb(Color c) { return fmt::format("rgb({},{},{})", c.r, c.g, c.b); }

class SvgCanvas : public Canvas {
 public:
  void Line(double x1, double y1, double x2, double y2, Color color, double width,
            bool dashed) override {
    out_ += "<line x1=\"" + N(x1) + "\" y1=\"" + N(y1) + "\" x2=\"" + N(x2) + "\" y2=\"" + N(y2) +
            "\" stroke=\"" + Rgb(color) + "\" stroke-width=\"" + N(width) + "\"" +
            (dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>\n";
  }
  void Circle(double cx, double cy, double r, Color fill) override {
    out_ += "<circle cx=\"" + N(cx) + "\" cy=\"" + N(cy) + "\" r=\"" + N(r) + "\" fill=\"" +
            Rgb(fill) + "\"/>\n";
  }
  void Rect(double x, double y, double w, double h, Color fill) override {
    out_ += "<rect x=\"" + N(x) + "\" y=\"" + N(y) + "\" width=\"" + N(w) + "\" height=\"" + N(h) +
            "\" fill=\"" + Rgb(fill) + "\"/>\n";
  }
  void Text(double x, double y, std::string_view text, const TextStyle& s) override {
    const char* anchor = s.anchor == Anchor::kStart    ? "start"
                         : s.anchor == Anchor::kMiddle ? "middle"
                                                       : "end";
    out_ += "<text x=\"" + N(x) + "\" y=\"" + N(y) + "\" font-size=\"" + N(s.size) +
            "\" text-anchor=\"" + anchor + "\" fill=\"" + Rgb(s.color) + "\"" +
            (s.bold ? " font-weight=\"bold\"" : "") + ">" + XmlEscape(text) + "</text>\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string SvgDocument(FigureSize size, const std::string& title, const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         N(size.width) + "\" height=\"" + N(size.height) + "\" viewBox=\"0 0 " + N(size.width) +
         " " + N(size.height) + "\" font-family=\"Helvetica, Arial, sans-serif\">\n<title>" +
         XmlEscape(title) + "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" +
         body + "</svg>\n";
}

}  // namespace

std::string RenderSvg(const DotPlot& plot) {
  SvgCanvas canvas;
  DrawDotPlot(plot, canvas);
  return SvgDocument(PlotSize(plot), plot.title, canvas.Take());
}

std::string RenderSvg(const FailureMap& map) {
  SvgCanvas canvas;
  DrawFailureMap(map, canvas);
  return SvgDocument(FailureMapSize(map), map.title, canvas.Take());
}

}  // namespace orch::report
