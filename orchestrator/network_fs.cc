#include "orchestrator/network_fs.h"

#include <sys/vfs.h>

#include <cstdint>
#include <filesystem>

namespace orch {

std::optional<std::string> NetworkFilesystemTypeName(uint32_t f_type) {
  // Magic numbers from linux/magic.h and the filesystems' sources.
  switch (f_type) {
    case 0x6969: return "NFS";
    case 0xFF534D42: return "CIFS";
    case 0xFE534D42: return "SMB2";
    case 0x517B: return "SMB";
    case 0x0BD00BD0: return "Lustre";
    case 0x47504653: return "GPFS";
    case 0x19830326: return "BeeGFS";
    case 0x00C36400: return "CephFS";
    case 0x013111A8: return "IBRIX";
    case 0x6B414653: return "AFS";
    case 0x5346414F: return "OpenAFS";
    case 0x7461636F: return "OCFS2";
    case 0x01161970: return "GFS2";
    default: return std::nullopt;
  }
}

std::optional<std::string> NetworkFilesystemName(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) return std::nullopt;
  while (!p.empty() && !std::filesystem::exists(p, ec) && p != p.root_path()) p = p.parent_path();
  struct statfs fs {};
  if (::statfs(p.c_str(), &fs) != 0) return std::nullopt;
  return NetworkFilesystemTypeName(static_cast<uint32_t>(fs.f_type));
}

}  // namespace orch
