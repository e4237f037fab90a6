#include "report/text_escape.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace orch::report {
namespace {

// Decodes one UTF-8 code point at `i` (advancing it); invalid bytes give U+FFFD.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += len;
  return cp;
}

bool IsControl(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0); }

}  // namespace

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

std::string LatexEscape(std::string_view text, std::string_view next) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 3) == "...") {
      out += "\\ldots{}";
      i += 3;
      continue;
    }
    const size_t start = i;
    const char32_t cp = NextCodePoint(text, i);
    switch (cp) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '{':
        out += "\\{";
        break;
      case '}':
        out += "\\}";
        break;
      case '_':
        out += "\\_";
        break;
      case '%':
        out += "\\%";
        break;
      case '&':
        out += "\\&";
        break;
      case '#':
        out += "\\#";
        break;
      case '$':
        out += "\\$";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '<':
        out += "\\textless{}";
        break;
      case '>':
        out += "\\textgreater{}";
        break;
      case '|':
        out += "\\textbar{}";
        break;
      case '"':
        out += "\\textquotedbl{}";
        break;
      // chktex (warning 36) wants a space before "(" after a word; \relax keeps the
      // text as written and the lint quiet.
      case '(':
        out += (!out.empty() && out.back() != ' ' && out.back() != '~') ? "\\relax(" : "(";
        break;
      // T1 ligatures would turn -- into a dash and `` into a quote: keep them literal.
      case '-':
        out += (i < text.size() && text[i] == '-') ? "-{}" : "-";
        break;
      case '`':
        out += "\\textasciigrave{}";
        break;
      case '\'':
        out += (i < text.size() && text[i] == '\'') ? "'{}" : "'";
        break;
      case 0x2013:
        out += "--";
        break;
      case 0x2014:
        out += "---";
        break;
      case 0x2018:
        out += "`";
        break;
      case 0x2019:
        out += "'";
        break;
      case 0x201C:
        out += "``";
        break;
      case 0x201D:
        out += "''";
        break;
      case 0x2026:
        out += "\\ldots{}";
        break;
      case 0x00D7:
        out += "\\texttimes{}";
        break;
      case 0x00B1:
        out += "\\textpm{}";
        break;
      case 0x00B5:
        out += "\\textmu{}";
        break;
      case 0x00A0:
        out += "~";
        break;
      default:
        if (cp >= 'A' && cp <= 'Z') {
          // A capital before . : ; ! ? ends an abbreviation, not a sentence: \@ gives
          // the right spacing (and chktex, warning 13, asks for it).
          out += static_cast<char>(cp);
          const char after = i < text.size() ? text[i] : next.empty() ? ' ' : next.front();
          if (std::string_view(".:;!?").find(after) != std::string_view::npos) {
            out += "\\@";
          }
        } else if (IsControl(cp)) {
          out += ' ';
        } else if (cp < 0x80 || (cp >= 0xA1 && cp <= 0x17F)) {
          out.append(text.substr(start, i - start));
        } else {
          out += fmt::format("[U+{:04X}]", static_cast<uint32_t>(cp));
        }
    }
  }
  return out;
}

std::string MarkdownEscape(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n' || c == '\r' || c == '\t' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      c = ' ';
    }
    if (line_start && c != ' ') {
      // Block markers only count at the start of a line: headings, lists, quotes, rules.
      if (c == '#' || c == '-' || c == '+' || c == '=' || c == '>') {
        out += '\\';
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t j = i;
        while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
        if (j < text.size() && (text[j] == '.' || text[j] == ')')) {
          out.append(text.substr(i, j - i));
          out += '\\';
          i = j;
          c = text[j];
        }
      }
      line_start = false;
    }
    switch (c) {
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '<':
      case '>':
      case '|':
      case '~':
      case '$':
      case '&':
      case '!':
      case '{':
      case '}':
        out += '\\';
        break;
      default:
        break;
    }
    out += c;
  }
  return out;
}

std::string MarkdownCode(std::string_view text, bool in_table) {
  std::string body = OneLine(text);
  if (in_table) {
    std::string t;
    for (char c : body) {
      if (c == '|') t += '\\';
      t += c;
    }
    body = t;
  }
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`' ||
                                     (body.front() == ' ' && body.back() == ' '));
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string MarkdownFence(std::string_view text, std::string_view info) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  std::string out = fence + std::string(info) + "\n" + std::string(text);
  if (out.back() != '\n') out += '\n';
  return out + fence + "\n";
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? ' ' : c;
    }
  }
  return out;
}

std::string PdfStringEscape(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const char32_t cp = NextCodePoint(text, i);
    if (cp == '(' || cp == ')' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else if (IsControl(cp)) {
      out += ' ';
    } else {
      out += '?';
    }
  }
  return out;
}

std::string SafeFileStem(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                    (c == '.' && !out.empty());
    out += ok && static_cast<unsigned char>(c) < 0x80 ? c : '_';
  }
  return out.empty() ? "_" : out;
}

std::vector<std::string> SplitParagraphs(const std::string& text) {
  std::vector<std::string> out;
  std::string para;
  size_t b = 0;
  while (b <= text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    const std::string line = text.substr(b, e - b);
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (!para.empty()) out.push_back(std::move(para));
      para.clear();
    } else {
      para += (para.empty() ? "" : " ") + line;
    }
    b = e + 1;
  }
  if (!para.empty()) out.push_back(std::move(para));
  return out;
}

}  // namespace orch::report
