// The token-id file (docs/protocol.md): a dataset's token ids as little-endian int32, no
// header, so its size is 4 x the number of tokens and workers can mmap it. Writes are
// atomic (temporary name + rename). Stateless functions; safe from any thread for
// distinct paths.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace orch::text {

// The file's bytes for `ids`: little-endian whatever the host's byte order.
std::string EncodeTokenIds(std::span<const int32_t> ids);

// Writes `ids` to `path` atomically.
Status WriteTokenIdsFile(const std::string& path, std::span<const int32_t> ids);

// Reads a token-id file; a size that is not a multiple of 4 is an error naming the path.
StatusOr<std::vector<int32_t>> ReadTokenIdsFile(const std::string& path);

}  // namespace orch::text
