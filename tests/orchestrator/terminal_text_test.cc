// TerminalText: worker and spec bytes made safe to print and to store.
#include "orchestrator/cli/terminal_text.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

TEST(TerminalText, ControlCharactersAreShownNotActedOn) {
  EXPECT_EQ(ForTerminal("plain text, caf\xC3\xA9 \\ ok"), "plain text, caf\xC3\xA9 \\ ok");
  EXPECT_EQ(ForTerminal("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(ForTerminal("\x1b[2J\x1b]0;title\x07"), "\\x1b[2J\\x1b]0;title\\x07");
  EXPECT_EQ(ForTerminal(std::string("nul\0del\x7f", 8)), "nul\\x00del\\x7f");
  // C1 controls (U+009B is the one-byte CSI on some terminals).
  EXPECT_EQ(ForTerminal("\xC2\x9B" "31m"), "\\x9b31m");
}

TEST(TerminalText, InvalidUtf8IsReplaced) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(ValidUtf8("caf\xe9"), "caf" + r);
  EXPECT_EQ(ValidUtf8("\xff\xfe"), r + r);
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), r + r);          // overlong '/'
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), r + r + r);  // a surrogate
  EXPECT_EQ(ValidUtf8("\xE2\x82"), r);              // truncated: one replacement
  EXPECT_EQ(ValidUtf8("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(ValidUtf8("ok \xF0\x9F\x98\x80"), "ok \xF0\x9F\x98\x80");
  EXPECT_EQ(ForTerminal("\xff\x1b"), r + "\\x1b");
}

TEST(TerminalText, FirstInvalidByte) {
  EXPECT_EQ(FirstInvalidUtf8("caf\xC3\xA9"), std::string_view::npos);
  EXPECT_EQ(FirstInvalidUtf8("ab\xC3(d"), 2u);
}

TEST(TerminalText, LinesKeepTheirBreaks) {
  EXPECT_EQ(ForTerminalLines("a\x1b[1m\nb\r\n"), "a\\x1b[1m\nb\\r\n");
}

}  // namespace
}  // namespace orch
