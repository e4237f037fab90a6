// The network-filesystem check behind `orch run`'s warning (docs/design.md, "Running on
// a cluster"): the statfs magic numbers of the filesystems SQLite's locking and WAL do
// not work on, and a local directory (this test's temporary one) that is not warned about.
#include <gtest/gtest.h>

#include "orchestrator/network_fs.h"
#include "test_util.h"

namespace orch {
namespace {

TEST(NetworkFs, SharedFilesystemsAreNamedByTheirMagic) {
  EXPECT_EQ(NetworkFilesystemTypeName(0x6969), "NFS");
  EXPECT_EQ(NetworkFilesystemTypeName(0xFF534D42), "CIFS");
  EXPECT_EQ(NetworkFilesystemTypeName(0xFE534D42), "SMB2");
  EXPECT_EQ(NetworkFilesystemTypeName(0x0BD00BD0), "Lustre");
  EXPECT_EQ(NetworkFilesystemTypeName(0x47504653), "GPFS");
  EXPECT_EQ(NetworkFilesystemTypeName(0x19830326), "BeeGFS");
  EXPECT_EQ(NetworkFilesystemTypeName(0x00C36400), "CephFS");
}

TEST(NetworkFs, LocalFilesystemsAreNotWarnedAbout) {
  for (uint32_t local : {0xEF53u /* ext2/3/4 */, 0x58465342u /* XFS */, 0x9123683Eu /* Btrfs */,
                         0x01021994u /* tmpfs */, 0x794C7630u /* overlayfs */}) {
    EXPECT_EQ(NetworkFilesystemTypeName(local), std::nullopt) << std::hex << local;
  }
  // The test's temporary directory is local (tmpfs, overlay or a disk), including a
  // database path that does not exist yet (its nearest existing parent is checked).
  testing::TempDir d;
  EXPECT_EQ(NetworkFilesystemName(d.path()), std::nullopt);
  EXPECT_EQ(NetworkFilesystemName(d / "results/orch.db"), std::nullopt);
}

}  // namespace
}  // namespace orch
