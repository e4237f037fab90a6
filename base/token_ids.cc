#include "base/token_ids.h"

#include "base/atomic_file.h"

namespace orch {

std::string EncodeTokenIds(std::span<const int32_t> ids) {
  std::string bytes(ids.size() * 4, '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto v = static_cast<uint32_t>(ids[i]);
    bytes[4 * i + 0] = static_cast<char>(v & 0xFF);
    bytes[4 * i + 1] = static_cast<char>((v >> 8) & 0xFF);
    bytes[4 * i + 2] = static_cast<char>((v >> 16) & 0xFF);
    bytes[4 * i + 3] = static_cast<char>((v >> 24) & 0xFF);
  }
  return bytes;
}

Status WriteTokenIdsFile(const std::string& path, std::span<const int32_t> ids) {
  return WriteFileAtomically(path, EncodeTokenIds(ids));
}

StatusOr<std::vector<int32_t>> ReadTokenIdsFile(const std::string& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return Status::Error("token-id file " + bytes.status().message());
  if (bytes->size() % 4 != 0) {
    return Status::Error("token-id file " + path + ": size " + std::to_string(bytes->size()) +
                         " is not a multiple of 4 (int32 ids)");
  }
  std::vector<int32_t> ids(bytes->size() / 4);
  const auto* b = reinterpret_cast<const unsigned char*>(bytes->data());
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint32_t v = uint32_t(b[4 * i]) | (uint32_t(b[4 * i + 1]) << 8) |
                       (uint32_t(b[4 * i + 2]) << 16) | (uint32_t(b[4 * i + 3]) << 24);
    ids[i] = static_cast<int32_t>(v);
  }
  return ids;
}

}  // namespace orch
