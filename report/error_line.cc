#include "report/error_line.h"

#include <cctype>
#include <vector>

namespace orch::report {
namespace {

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string StripAnsi(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Lines that frame an error without saying what it is.
bool IsBoilerplate(const std::string& line) {
  const std::string l = Lower(line);
  return StartsWith(l, "traceback (most recent call last)") || StartsWith(l, "file \"") ||
         StartsWith(l, "frame #") || StartsWith(l, "exception raised from") ||
         StartsWith(l, "terminate called after throwing") || StartsWith(l, "at ") ||
         StartsWith(l, "stack trace") || StartsWith(l, "backtrace") ||
         (l.size() > 1 && l[0] == '#' && std::isdigit(static_cast<unsigned char>(l[1])));
}

bool NamesError(const std::string& line) {
  static const char* kWords[] = {
      "error",   "exception",    "out of memory", "what():",    "fatal", "segmentation",
      "assert",  "abort",        "killed",        "failed",     "panic", "timed out",
      "timeout", "no heartbeat", "cannot",        "unsupported"};
  const std::string l = Lower(line);
  for (const char* w : kWords) {
    if (l.find(w) != std::string::npos) return true;
  }
  return false;
}

// Cuts at a UTF-8 character boundary so the report stays valid UTF-8.
std::string Truncate(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

std::string FirstErrorLineUncut(const std::string& stderr_tail) {
  std::vector<std::string> lines;
  size_t start = 0;
  const std::string text = StripAnsi(stderr_tail);
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = Trim(text.substr(start, nl - start));
    if (!line.empty() && !IsBoilerplate(line)) lines.push_back(line);
    start = nl + 1;
  }
  for (const std::string& l : lines) {
    if (NamesError(l)) {
      const size_t what = l.find("what():");
      return what == std::string::npos ? l : Trim(l.substr(what + 7));
    }
  }
  return lines.empty() ? "" : lines.back();
}

}  // namespace

std::string FirstErrorLine(const std::string& stderr_tail) {
  return Truncate(FirstErrorLineUncut(stderr_tail), kMaxErrorLine);
}

}  // namespace orch::report
