#include "text/token_ids_file.h"

#include <gtest/gtest.h>

#include <climits>

#include "base/atomic_file.h"
#include "test_support.h"

namespace orch::text {
namespace {

using testing::TempDir;

TEST(TokenIdsFile, RoundTripsIdsIncludingExtremes) {
  TempDir dir;
  const std::vector<int32_t> ids = {0, 1, 50276, 255, 256, INT32_MAX, -1, INT32_MIN};
  ASSERT_TRUE(WriteTokenIdsFile(dir.Path("a.ids"), ids).ok());
  auto read = ReadTokenIdsFile(dir.Path("a.ids"));
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(*read, ids);
}

TEST(TokenIdsFile, IsLittleEndianInt32WithoutHeader) {
  TempDir dir;
  ASSERT_TRUE(WriteTokenIdsFile(dir.Path("a.ids"), std::vector<int32_t>{1, 0x01020304}).ok());
  auto bytes = ReadFile(dir.Path("a.ids"));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("\x01\x00\x00\x00\x04\x03\x02\x01", 8));
}

TEST(TokenIdsFile, EmptyListIsAnEmptyFile) {
  TempDir dir;
  ASSERT_TRUE(WriteTokenIdsFile(dir.Path("e.ids"), {}).ok());
  auto read = ReadTokenIdsFile(dir.Path("e.ids"));
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->empty());
}

TEST(TokenIdsFile, SizeNotAMultipleOfFourIsAnErrorNamingThePath) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Path("bad.ids"), "12345").ok());
  auto read = ReadTokenIdsFile(dir.Path("bad.ids"));
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(dir.Path("bad.ids")), std::string::npos);
}

}  // namespace
}  // namespace orch::text
