// Writes a file so that readers see either the old content or the complete new one:
// write to a temporary name in the same directory, fsync, rename, fsync the directory
// (LevelDB's SetCurrentFile pattern). Safe from any thread for distinct paths.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace orch {

Status WriteFileAtomically(const std::string& path, std::string_view content);

// The same promise for a file written in pieces, so that a large file is never held
// whole in memory: Append buffers and writes to the temporary file, Commit syncs it and
// renames it into place; a writer destroyed before Commit removes its temporary file.
// One thread at a time.
class AtomicFileWriter {
 public:
  static StatusOr<std::unique_ptr<AtomicFileWriter>> Open(const std::string& path);
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status Append(std::string_view piece);
  Status Commit();  // once; after an error of Append, returns that error

 private:
  AtomicFileWriter(std::string path, std::string tmp, int fd);
  Status WriteAll(std::string_view data);
  Status Flush();
  Status Fail(Status s);  // closes and removes the temporary file, keeps `s`

  std::string path_, tmp_;
  int fd_ = -1;
  std::string buffer_;
  Status failed_ = Status::Ok();
};

// Reads a whole file; an error names the path and the reason.
StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace orch
