// The token-id file (docs/protocol.md): a dataset's token ids as little-endian int32, no
// header, so its size is 4 x the number of tokens and workers can mmap it. text/ writes
// it (dataset preparation), orch-worker reads it (the trial's inputs.token_ids); both
// use these functions. Writes are atomic (temporary name + rename). Stateless; safe from
// any thread for distinct paths.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace orch {

// The file's bytes for `ids`: little-endian whatever the host's byte order.
std::string EncodeTokenIds(std::span<const int32_t> ids);

// Writes `ids` to `path` atomically.
Status WriteTokenIdsFile(const std::string& path, std::span<const int32_t> ids);

// Reads a token-id file. An unreadable file, or a size that is not a multiple of 4, is
// an error naming the path ("token-id file PATH: ...").
StatusOr<std::vector<int32_t>> ReadTokenIdsFile(const std::string& path);

}  // namespace orch
