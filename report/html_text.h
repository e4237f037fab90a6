// Text for report.html: HTML escaping, JSON that is safe inside a <script> element, the
// CSP source expression of an inline script or style ('sha256-...'), and Prose as HTML
// (trial keys become links that open the trial's panel). Everything a spec or a worker
// wrote passes through HtmlEscape or JsonForScript, so it is data, never markup.
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "report/prose.h"

namespace orch::report {

// Character data and attribute values: & < > " ' escaped; control characters other than
// newline and tab as U+FFFD (they are not allowed in HTML).
std::string HtmlEscape(std::string_view text);

// `json` (valid JSON text) with every '<', '>' and '&' written as \u003c, \u003e, \u0026
// and U+2028/U+2029 as \u2028/\u2029: it can neither close the <script> element it sits
// in nor open a comment, and JSON.parse reads it back unchanged.
std::string JsonForScript(std::string_view json);
// The same, appended to `out` (no copy of a large document).
void AppendJsonForScript(std::string_view json, std::string& out);

// "'sha256-BASE64'" of `text`: the CSP source that allows exactly this inline element.
std::string CspHash(std::string_view text);

// Spans: our text and user text escaped, code as <code>, keys as links
// <a class="key" href="#trial=PREFIX" data-key="PREFIX">.
std::string RenderProseHtml(const Prose& prose);

// A link to a trial's panel showing `short_key`.
std::string KeyLink(std::string_view short_key);

}  // namespace orch::report
