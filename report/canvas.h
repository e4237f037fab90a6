// Canvas: the few drawing operations the report's figures need (lines, circles, rectangles, text),
// so one layout (figures.cc) renders to SVG for markdown and to PDF for LaTeX with the
// same geometry. Coordinates in points, origin top-left, y downwards. Implementations
// must produce identical bytes for identical call sequences. Not thread-safe per object.
#pragma once

#include <string>
#include <string_view>

namespace orch::report {

struct Color {
  int r = 0, g = 0, b = 0;
};

enum class Anchor { kStart, kMiddle, kEnd };

struct TextStyle {
  double size = 10;
  Anchor anchor = Anchor::kStart;
  bool bold = false;
  Color color;
};

class Canvas {
 public:
  virtual ~Canvas() = default;
  virtual void Line(double x1, double y1, double x2, double y2, Color color, double width,
                    bool dashed = false) = 0;
  virtual void Circle(double cx, double cy, double r, Color fill) = 0;
  // A filled rectangle, top-left corner at (x, y).
  virtual void Rect(double x, double y, double w, double h, Color fill) = 0;
  virtual void Text(double x, double y, std::string_view text, const TextStyle& style) = 0;
};

// Width of `text` in Helvetica at `size` points (AFM widths; non-ASCII counted as 'n'):
// the PDF needs it to anchor text, the layout to size its margins.
double HelveticaWidth(std::string_view text, double size);

}  // namespace orch::report
