#include "report/number_format.h"

#include <fmt/format.h>

#include <cmath>

namespace orch::report {

std::string FormatFixed(double x, int decimals) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{:.{}f}", x, decimals);
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string FormatPpl(double ppl) { return FormatFixed(ppl, 2); }
std::string FormatMs(double ms) { return FormatFixed(ms, 2); }
std::string FormatRatio(double ratio) { return FormatFixed(ratio, 3); }
std::string FormatPercent(double fraction) { return FormatFixed(fraction * 100, 1) + "%"; }

std::string FormatSignedPercent(double fraction) {
  std::string s = FormatFixed(fraction * 100, 1);
  if (s[0] != '-' && s != "nan") s.insert(0, "+");
  return s + "%";
}

std::string FormatBytes(double bytes) {
  constexpr double kKiB = 1024.0, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (!std::isfinite(bytes)) return FormatFixed(bytes, 0);
  if (bytes >= kGiB) return FormatFixed(bytes / kGiB, 2) + " GiB";
  if (bytes >= kMiB) return FormatFixed(bytes / kMiB, 2) + " MiB";
  return FormatFixed(bytes / kKiB, 2) + " KiB";
}

std::string FormatCount(double x) { return FormatFixed(x, 0); }

std::string FormatMetric(double x) {
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) return FormatFixed(x, 0);
  if (!std::isfinite(x)) return FormatFixed(x, 0);
  return fmt::format("{:.6g}", x);
}

}  // namespace orch::report
