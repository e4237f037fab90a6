// Writes a file so that readers see either the old content or the complete new one:
// write to a temporary name in the same directory, fsync, rename, fsync the directory
// (LevelDB's SetCurrentFile pattern). Safe from any thread for distinct paths.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace orch {

Status WriteFileAtomically(const std::string& path, std::string_view content);

// Reads a whole file; an error names the path and the reason.
StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace orch
