// Network filesystems: SQLite's locking and WAL need a local filesystem (WAL's shared
// memory index does not work across hosts, and NFS/SMB byte-range locks are often
// broken), so `orch run` warns when its database sits on NFS, CIFS/SMB, Lustre, GPFS,
// BeeGFS and the like (docs/design.md, "Durability" and "Running on a cluster"). Linux.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace orch {

// The name of the network filesystem `path` (or its nearest existing parent) is on,
// or nullopt when it is local or cannot be told.
std::optional<std::string> NetworkFilesystemName(const std::string& path);

// The name of the network filesystem with statfs magic `f_type`, or nullopt for any
// other (local) filesystem.
std::optional<std::string> NetworkFilesystemTypeName(uint32_t f_type);

}  // namespace orch
