#include "text/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace orch::text {
namespace {

TEST(Utf8, AcceptsWellFormedTextOfEveryLength) {
  EXPECT_TRUE(ValidateUtf8("").ok());
  EXPECT_TRUE(ValidateUtf8("plain ascii, longer than eight bytes").ok());
  EXPECT_TRUE(ValidateUtf8("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").ok());  // é € 😀
  EXPECT_TRUE(ValidateUtf8("\xF4\x8F\xBF\xBF").ok());                        // U+10FFFF
  EXPECT_TRUE(ValidateUtf8(std::string("a\0b", 3)).ok());                    // NUL is valid
}

TEST(Utf8, RejectsIllFormedSequencesNamingTheirByteOffset) {
  struct Case {
    std::string text;
    size_t offset;
  };
  const Case cases[] = {
      {"ab\xC3", 2},            // truncated at the end
      {"\xC0\xAF", 0},          // overlong '/'
      {"x\xE0\x80\xAF", 1},     // overlong three-byte form
      {"12\xED\xA0\x80", 2},    // surrogate U+D800
      {"\xF4\x90\x80\x80", 0},  // above U+10FFFF
      {"abc\x80", 3},           // lone continuation byte
      {"abcdefgh\xFF", 8},      // after the eight-byte ASCII fast path
      {"\xE2\x82"
       "a",
       0},  // truncated in the middle
      {"ok \xF0\x9F\x98"
       "a",
       3},  // four-byte form missing its last byte
  };
  for (const Case& c : cases) {
    Status status = ValidateUtf8(c.text);
    ASSERT_FALSE(status.ok()) << "offset " << c.offset;
    EXPECT_NE(status.message().find("invalid UTF-8 at byte offset " + std::to_string(c.offset)),
              std::string::npos)
        << status.message();
  }
}

}  // namespace
}  // namespace orch::text
