// Escaping of text for the report's output formats. Everything that comes from a spec,
// a worker or a stderr tail passes through here before it reaches markdown, LaTeX or
// SVG, so a hostile string (`_ % & # $ { } ~ ^ \`, markup, control characters) is shown
// literally and never breaks the document. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orch::report {

// LaTeX text mode (pdflatex, T1 fontenc): the ten specials, `< > | "`, "..." as \ldots,
// control characters as spaces, typographic Unicode mapped to commands, other code points
// outside Latin-1/Latin Extended-A written as "[U+XXXX]" (pdflatex cannot typeset them).
// A capital letter before . : ; ! ? gets \@ (an abbreviation, not a sentence end);
// `next` is the text that will follow, so a capital at the very end is handled too.
std::string LatexEscape(std::string_view text, std::string_view next = {});

// Markdown inline text (CommonMark/GFM): backslash-escapes the characters that could
// start emphasis, links, HTML, math, tables or block markers; newlines become spaces.
std::string MarkdownEscape(std::string_view text);

// Markdown code span sized to its content (a fence longer than any backtick run).
// `in_table`: also escapes `|`, which GFM tables split on even inside code spans.
std::string MarkdownCode(std::string_view text, bool in_table = false);

// A fenced markdown code block whose fence cannot occur in `text`.
std::string MarkdownFence(std::string_view text, std::string_view info = "");

// XML character data / attribute values for SVG: & < > " ' and control characters.
std::string XmlEscape(std::string_view text);

// Text for a PDF string literal in Helvetica (WinAnsi): ( ) \ escaped, non-ASCII as '?'.
std::string PdfStringEscape(std::string_view text);

// Spec text (context, notes, conclusion) as paragraphs: blank lines separate them, the
// lines of one paragraph are joined by a space. Unescaped: each writer escapes its own.
std::vector<std::string> SplitParagraphs(const std::string& text);

// Replaces control characters (including newlines and tabs) by spaces.
std::string OneLine(std::string_view text);

// A file-name-safe form of a user id: [A-Za-z0-9._-], others as '_', never empty.
std::string SafeFileStem(std::string_view text);

}  // namespace orch::report
