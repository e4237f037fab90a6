#include "report/error_line.h"

#include <gtest/gtest.h>

namespace orch::report {
namespace {

TEST(FirstErrorLine, SkipsBoilerplateAndPrefersErrors) {
  EXPECT_EQ(FirstErrorLine("loading\nTraceback (most recent call last):\n  File \"a\"\n"
                           "RuntimeError: CUDA out of memory\nmore\n"),
            "RuntimeError: CUDA out of memory");
  EXPECT_EQ(FirstErrorLine("terminate called after throwing an instance of 'c10::Error'\n"
                           "  what():  boom happened\n"),
            "boom happened");
  EXPECT_EQ(FirstErrorLine("\x1b[31merror: red\x1b[0m\n"), "error: red");
  EXPECT_EQ(FirstErrorLine("decode 1/64\ndecode 2/64\n"), "decode 2/64");
  EXPECT_EQ(FirstErrorLine("\n  \n"), "");
}

TEST(FirstErrorLine, StaysOneBoundedUtf8Line) {
  std::string long_line = "error: " + std::string(300, 'x') + "\xCE\xBB";
  const std::string got = FirstErrorLine(long_line);
  EXPECT_LE(got.size(), kMaxErrorLine + 3);
  EXPECT_EQ(got.substr(got.size() - 3), "...");
  // A cut inside a multi-byte character backs off to its first byte.
  const std::string greek = "error " + std::string(kMaxErrorLine - 7, 'a') + "\xCE\xBB\xCE\xBB";
  const std::string cut = FirstErrorLine(greek);
  EXPECT_EQ(cut.substr(cut.size() - 4), "a...");
}

}  // namespace
}  // namespace orch::report
