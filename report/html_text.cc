#include "report/html_text.h"

#include <cstdint>

#include "base/sha256.h"

namespace orch::report {

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
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
        out += "&#39;";
        break;
      default:
        if ((c < 0x20 && ch != '\n' && ch != '\t') || c == 0x7f) {
          out += "\xEF\xBF\xBD";
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string JsonForScript(std::string_view json) {
  std::string out;
  AppendJsonForScript(json, out);
  return out;
}

void AppendJsonForScript(std::string_view json, std::string& out) {
  // Runs of bytes that need nothing are appended whole: a byte-by-byte append was ~5% of
  // report.html's time at 100,000 trials (45 MB, issue 18).
  out.reserve(out.size() + json.size() + json.size() / 16);
  const char* const data = json.data();
  const size_t n = json.size();
  size_t run = 0;  // start of the bytes not yet appended
  for (size_t i = 0; i < n; ++i) {
    const char ch = data[i];
    if (ch != '<' && ch != '>' && ch != '&' && ch != '\xE2') continue;
    if (ch == '\xE2' &&
        !(i + 2 < n && data[i + 1] == '\x80' && (data[i + 2] == '\xA8' || data[i + 2] == '\xA9'))) {
      continue;
    }
    out.append(data + run, i - run);
    if (ch == '<') {
      out += "\\u003c";
    } else if (ch == '>') {
      out += "\\u003e";
    } else if (ch == '&') {
      out += "\\u0026";
    } else {
      out += data[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    }
    run = i + 1;
  }
  out.append(data + run, n - run);
}

std::string CspHash(std::string_view text) {
  const std::string hex = Sha256Hex(text);
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    b64 += kAlphabet[(v >> 18) & 63];
    b64 += kAlphabet[(v >> 12) & 63];
    b64 += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    b64 += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return "'sha256-" + b64 + "'";
}

std::string KeyLink(std::string_view short_key) {
  const std::string k = HtmlEscape(short_key);
  return "<a class=\"key\" href=\"#trial=" + k + "\" data-key=\"" + k + "\">" + k + "</a>";
}

std::string RenderProseHtml(const Prose& prose) {
  std::string out;
  for (const Span& s : prose.spans()) {
    switch (s.kind) {
      case SpanKind::kText:
      case SpanKind::kUserText:
        out += HtmlEscape(s.text);
        break;
      case SpanKind::kCode:
        out += "<code>" + HtmlEscape(s.text) + "</code>";
        break;
      case SpanKind::kKey:
        out += KeyLink(s.text);
        break;
    }
  }
  return out;
}

}  // namespace orch::report
