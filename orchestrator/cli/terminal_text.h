// TerminalText: bytes from outside orch (spec strings, worker reasons, stderr tails, values
// already in the database) made safe to print and to store. Nothing a worker or a spec
// writes can move the cursor, clear the screen, rewrite the progress line or break a
// UTF-8 decoder downstream. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace orch {

// `text` with every ill-formed UTF-8 sequence (stray continuation bytes, overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences) replaced by U+FFFD, one per
// maximal ill-formed subpart. Well-formed text is returned unchanged.
std::string ValidUtf8(std::string_view text);

// The byte offset of the first ill-formed UTF-8 sequence in `text`, or npos.
size_t FirstInvalidUtf8(std::string_view text);

// `text` for a terminal: valid UTF-8 (as ValidUtf8) with control characters escaped so
// they show instead of acting: newline, carriage return and tab become the two characters
// `\n`, `\r`, `\t`; other C0 controls (ESC included), DEL and the C1 controls
// (U+0080..U+009F) become `\xNN`. Everything else, backslashes included, is unchanged.
std::string ForTerminal(std::string_view text);

// ForTerminal applied to each line of `text`, keeping its line breaks: for multi-line
// output such as a log tail or indented JSON.
std::string ForTerminalLines(std::string_view text);

}  // namespace orch
