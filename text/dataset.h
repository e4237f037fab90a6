// Datasets as token ids: reads a dataset's text (a UTF-8 file used as is, or a directory
// of .txt files joined by a documented rule, see docs/tokenizer.md) and prepares its
// token-id file in a content-addressed cache keyed by (SHA-256 of tokenizer.json,
// SHA-256 of the text), so a second preparation only hashes the inputs. Cache files are
// written atomically; concurrent preparations of the same key write identical bytes.
// Stateless functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace orch::text {

// Bumped when the tokenizer's output for the same inputs changes (a bug fix), so stale
// cache entries are not reused.
inline constexpr int kTokenIdsCacheVersion = 1;

// The text a dataset path stands for: a regular file's bytes unchanged; for a directory,
// its regular files named *.txt (not recursive), sorted by name bytewise, each used as
// is, joined with "\n\n". A directory without .txt files is an error.
StatusOr<std::string> ReadDatasetText(const std::string& dataset_path);

struct PreparedTokenIds {
  std::string path;              // <cache_dir>/<key>.ids, the token-id file
  int64_t count = 0;             // number of tokens (file size / 4)
  std::string tokenizer_sha256;  // of the tokenizer.json bytes
  std::string text_sha256;       // of the dataset text (as returned by ReadDatasetText)
  bool from_cache = false;       // true when an earlier preparation was reused
};

// Tokenizes the dataset with the tokenizer unless `cache_dir` (created if missing)
// already holds its ids; returns the cached file either way. Next to <key>.ids lies
// <key>.json (hashes, count, version); an entry counts only when both agree.
StatusOr<PreparedTokenIds> PrepareTokenIds(const std::string& tokenizer_path,
                                           const std::string& dataset_path,
                                           const std::string& cache_dir);

}  // namespace orch::text
