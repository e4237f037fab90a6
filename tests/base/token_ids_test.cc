#include "base/token_ids.h"

#include <gtest/gtest.h>

#include <climits>
#include <fstream>

#include "base/atomic_file.h"
#include "temp_dir.h"

namespace orch {
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

// A file another program wrote (as the worker reads a cached dataset): little-endian
// whatever the host's byte order.
TEST(TokenIdsFile, ReadsBytesWrittenElsewhere) {
  TempDir dir;
  {
    std::ofstream out(dir.Path("ids.bin"), std::ios::binary);
    const unsigned char bytes[] = {1, 0, 0, 0, 0x34, 0x12, 0, 0, 0xff, 0xff, 0xff, 0xff};
    out.write(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  }
  auto read = ReadTokenIdsFile(dir.Path("ids.bin"));
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(*read, (std::vector<int32_t>{1, 0x1234, -1}));
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
  EXPECT_NE(read.status().message().find("multiple of 4"), std::string::npos);
}

TEST(TokenIdsFile, MissingFileIsAnErrorNamingThePath) {
  TempDir dir;
  auto read = ReadTokenIdsFile(dir.Path("absent.ids"));
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("token-id file " + dir.Path("absent.ids")),
            std::string::npos)
      << read.status().message();
}

}  // namespace
}  // namespace orch
