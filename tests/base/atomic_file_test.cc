#include "base/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "temp_dir.h"

namespace orch {
namespace {

using testing::TempDir;

int FilesIn(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST(WriteFileAtomically, WritesTheContentAndLeavesNoTemporary) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Path("r.json"), "{\"a\": 1}\n").ok());
  EXPECT_EQ(*ReadFile(dir.Path("r.json")), "{\"a\": 1}\n");
  EXPECT_EQ(FilesIn(dir.path()), 1);
}

TEST(WriteFileAtomically, ReplacesAnOldFileWhole) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Path("r.json"), std::string(100000, 'x')).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.Path("r.json"), "short").ok());
  EXPECT_EQ(*ReadFile(dir.Path("r.json")), "short");
  EXPECT_EQ(FilesIn(dir.path()), 1);
}

TEST(WriteFileAtomically, MissingDirectoryIsAnErrorNamingThePathAndLeavesNothing) {
  TempDir dir;
  Status s = WriteFileAtomically(dir.Path("missing/r.json"), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.Path("missing/r.json")), std::string::npos) << s.message();
  EXPECT_EQ(FilesIn(dir.path()), 0);
}

// The rename fails (a directory stands at the path): the temporary is removed.
TEST(WriteFileAtomically, FailedRenameRemovesTheTemporary) {
  TempDir dir;
  std::filesystem::create_directories(dir.Path("r.json/inner"));
  Status s = WriteFileAtomically(dir.Path("r.json"), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(FilesIn(dir.path()), 0);
}

TEST(ReadFile, MissingFileNamesThePath) {
  TempDir dir;
  auto r = ReadFile(dir.Path("absent"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(dir.Path("absent")), std::string::npos);
}

TEST(AtomicFileWriter, PiecesMakeTheFileOnlyOnCommit) {
  TempDir dir;
  std::string expected;
  {
    StatusOr<std::unique_ptr<AtomicFileWriter>> w = AtomicFileWriter::Open(dir.Path("p.json"));
    ASSERT_TRUE(w.ok());
    // Small pieces (buffered), one larger than the buffer (written through), then small.
    for (const std::string& piece : {std::string("{\"a\": ["), std::string(3 << 20, 'x'),
                                     std::string("1, 2"), std::string("]}\n")}) {
      ASSERT_TRUE((*w)->Append(piece).ok());
      expected += piece;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.Path("p.json")));  // not before Commit
    ASSERT_TRUE((*w)->Commit().ok());
  }
  EXPECT_EQ(*ReadFile(dir.Path("p.json")), expected);
  EXPECT_EQ(FilesIn(dir.path()), 1);
}

TEST(AtomicFileWriter, AWriterDroppedBeforeCommitLeavesTheOldFile) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Path("p.json"), "old").ok());
  {
    StatusOr<std::unique_ptr<AtomicFileWriter>> w = AtomicFileWriter::Open(dir.Path("p.json"));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(std::string(2 << 20, 'n')).ok());
  }
  EXPECT_EQ(*ReadFile(dir.Path("p.json")), "old");
  EXPECT_EQ(FilesIn(dir.path()), 1);  // no temporary left behind
}

}  // namespace
}  // namespace orch
