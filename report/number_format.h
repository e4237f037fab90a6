// Number formatting for every output of the report: one place decides how a PPL, a
// latency, a ratio or a byte count is written, so markdown, LaTeX, SVG and the snippet
// agree digit for digit. Fixed precision through fmt (no locale, same bytes on every
// platform). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>

namespace orch::report {

// Plain fixed-point with `decimals` digits; "-0.00" is written "0.00"; non-finite values
// are written "nan", "inf", "-inf" (the writers show failures as text before that).
std::string FormatFixed(double x, int decimals);
std::string FormatPpl(double ppl);                 // 2 decimals: "12.34"
std::string FormatMs(double ms);                   // 2 decimals: "23.41"
std::string FormatRatio(double ratio);             // 3 decimals: "1.023"
std::string FormatPercent(double fraction);        // 1 decimal, no sign: "12.5%"
std::string FormatSignedPercent(double fraction);  // "+1.2%", "-0.4%"
// Binary units with 2 decimals: "512.00 MiB", "1.25 GiB"; below 1 MiB in KiB.
std::string FormatBytes(double bytes);
// Integers of metrics stored as doubles ("512").
std::string FormatCount(double x);
// A metric value in the appendix: integers as integers, others with 6 significant digits.
std::string FormatMetric(double x);

}  // namespace orch::report
