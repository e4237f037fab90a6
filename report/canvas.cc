#include "report/canvas.h"

namespace orch::report {
namespace {

// Helvetica advance widths (1/1000 em) for ASCII 32..126, from Adobe's AFM.
constexpr int kWidths[95] = {
    278, 278, 355, 556, 556, 889, 667,  191, 333, 333, 389, 584, 278, 333, 278, 278,  // sp../
    556, 556, 556, 556, 556, 556, 556,  556, 556, 556,                                // 0-9
    278, 278, 584, 584, 584, 556, 1015,                                               // :..@
    667, 667, 722, 722, 667, 611, 778,  722, 278, 500, 667, 556, 833,                 // A-M
    722, 778, 667, 778, 722, 667, 611,  722, 667, 944, 667, 667, 611,                 // N-Z
    278, 278, 278, 469, 556, 333,                                                     // [..`
    556, 556, 500, 556, 556, 278, 556,  556, 222, 222, 500, 222, 833,                 // a-m
    556, 556, 556, 556, 333, 500, 278,  556, 500, 722, 500, 500, 500,                 // n-z
    334, 260, 334, 584};                                                              // {..~

}  // namespace

double HelveticaWidth(std::string_view text, double size) {
  int total = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: counted with its lead
    total += (c >= 32 && c < 127) ? kWidths[c - 32] : 556;
  }
  return total * size / 1000.0;
}

}  // namespace orch::report
