// SHA-256 digests as lowercase hex, for trial keys and input fingerprints. Thin wrapper
// over OpenSSL's EVP interface; stateless functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace orch {

std::string Sha256Hex(std::string_view data);

// Streams the file through SHA-256 in 1 MiB chunks (a 5 GB model never sits in memory).
StatusOr<std::string> Sha256File(const std::string& path);

// Incremental hashing of several pieces (e.g. every file of a model directory).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string HexDigest();  // finishes the digest; call once

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL stays out of the header
};

}  // namespace orch
