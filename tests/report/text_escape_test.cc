#include "report/text_escape.h"

#include <gtest/gtest.h>

#include "report/number_format.h"

namespace orch::report {
namespace {

TEST(LatexEscape, EscapesEverySpecialCharacter) {
  EXPECT_EQ(LatexEscape("_ % & # $ { } ~ ^ \\"),
            "\\_ \\% \\& \\# \\$ \\{ \\} \\textasciitilde{} \\textasciicircum{} "
            "\\textbackslash{}");
  EXPECT_EQ(LatexEscape("a<b>|\"c\""),
            "a\\textless{}b\\textgreater{}\\textbar{}\\textquotedbl{}c\\textquotedbl{}");
  EXPECT_EQ(LatexEscape("wait..."), "wait\\ldots{}");
  EXPECT_EQ(LatexEscape("a--b ``q''"), "a-{}-b \\textasciigrave{}\\textasciigrave{}q'{}'");
  EXPECT_EQ(LatexEscape("tab\there\nnewline"), "tab here newline");
}

TEST(LatexEscape, KeepsLatinAndNamesOtherCodePoints) {
  EXPECT_EQ(LatexEscape("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(LatexEscape("\xCE\xBB"), "[U+03BB]");
  EXPECT_EQ(LatexEscape("\xE2\x80\x93"), "--");
  EXPECT_EQ(LatexEscape("\xFF"), "[U+FFFD]");
}

TEST(MarkdownEscape, NeutralisesMarkup) {
  EXPECT_EQ(MarkdownEscape("*a* _b_ [l](x) <b> `c` | $x$"),
            "\\*a\\* \\_b\\_ \\[l\\](x) \\<b\\> \\`c\\` \\| \\$x\\$");
  EXPECT_EQ(MarkdownEscape("# title"), "\\# title");
  EXPECT_EQ(MarkdownEscape("12. item"), "12\\. item");
  EXPECT_EQ(MarkdownEscape("- item"), "\\- item");
  EXPECT_EQ(MarkdownEscape("a - b"), "a - b");
  EXPECT_EQ(MarkdownEscape("two\nlines"), "two lines");
}

TEST(MarkdownCode, FenceLongerThanAnyBacktickRun) {
  EXPECT_EQ(MarkdownCode("abc"), "`abc`");
  EXPECT_EQ(MarkdownCode("a`b"), "``a`b``");
  EXPECT_EQ(MarkdownCode("`x`"), "`` `x` ``");
  EXPECT_EQ(MarkdownCode("a|b", true), "`a\\|b`");
  EXPECT_EQ(MarkdownFence("x ``` y"), "````\nx ``` y\n````\n");
}

TEST(XmlEscape, EscapesMarkup) {
  EXPECT_EQ(XmlEscape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
}

TEST(PdfStringEscape, EscapesDelimitersAndReplacesNonAscii) {
  EXPECT_EQ(PdfStringEscape("f(x) \\ \xCE\xBB"), "f\\(x\\) \\\\ ?");
}

TEST(SafeFileStem, KeepsOnlySafeCharacters) {
  EXPECT_EQ(SafeFileStem("A/b c"), "A_b_c");
  EXPECT_EQ(SafeFileStem(""), "_");
  EXPECT_EQ(SafeFileStem("../x"), "_._x");
}

TEST(NumberFormat, FixedPrecisionAndUnits) {
  EXPECT_EQ(FormatFixed(-0.0001, 2), "0.00");
  EXPECT_EQ(FormatPpl(12.345), "12.35");
  EXPECT_EQ(FormatRatio(1.0), "1.000");
  EXPECT_EQ(FormatBytes(1.5 * 1024 * 1024 * 1024), "1.50 GiB");
  EXPECT_EQ(FormatBytes(512 * 1024), "512.00 KiB");
  EXPECT_EQ(FormatSignedPercent(0.012), "+1.2%");
  EXPECT_EQ(FormatMetric(128), "128");
  EXPECT_EQ(FormatMetric(0.1234567), "0.123457");
}

}  // namespace
}  // namespace orch::report
