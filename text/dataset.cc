#include "text/dataset.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>
#include <vector>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "base/token_ids.h"
#include "text/tokenizer.h"

namespace orch::text {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr char kDirectorySeparator[] = "\n\n";

bool IsDirectory(const std::string& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

// The metadata beside a cached id file: what it was made from, so a reader can check a
// hit and a person can tell what a file in the cache is.
std::string MetadataJson(const PreparedTokenIds& prepared, const std::string& tokenizer_path,
                         const std::string& dataset_path) {
  Json meta = {{"format", "orch-token-ids"},
               {"version", kTokenIdsCacheVersion},
               {"tokenizer_sha256", prepared.tokenizer_sha256},
               {"text_sha256", prepared.text_sha256},
               {"count", prepared.count},
               {"tokenizer", tokenizer_path},
               {"dataset", dataset_path}};
  return meta.dump(2) + "\n";
}

// True when <key>.json and <key>.ids exist and agree with the inputs; anything else
// (missing, torn by an old crash, edited) is a miss and the entry is rewritten.
bool ReadCacheEntry(const std::string& meta_path, PreparedTokenIds* prepared) {
  auto text = ReadFile(meta_path);
  if (!text.ok()) return false;
  Json meta = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) return false;
  if (meta.value("format", "") != "orch-token-ids" ||
      meta.value("version", -1) != kTokenIdsCacheVersion ||
      meta.value("tokenizer_sha256", "") != prepared->tokenizer_sha256 ||
      meta.value("text_sha256", "") != prepared->text_sha256) {
    return false;
  }
  const int64_t count = meta.value("count", int64_t{-1});
  std::error_code error;
  const auto size = fs::file_size(prepared->path, error);
  if (error || count < 0 || size != static_cast<uintmax_t>(count) * 4) return false;
  prepared->count = count;
  return true;
}

}  // namespace

StatusOr<std::string> ReadDatasetText(const std::string& dataset_path) {
  if (!IsDirectory(dataset_path)) return ReadFile(dataset_path);
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dataset_path, error)) {
    std::error_code type_error;
    if (entry.is_regular_file(type_error) && entry.path().extension() == ".txt") {
      names.push_back(entry.path().filename().string());
    }
  }
  if (error) return Status::Error("dataset " + dataset_path + ": " + error.message());
  if (names.empty()) {
    return Status::Error("dataset " + dataset_path + ": directory has no .txt files");
  }
  std::sort(names.begin(), names.end());  // std::string compares bytewise
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    auto content = ReadFile((fs::path(dataset_path) / names[i]).string());
    if (!content.ok()) return content.status();
    if (i > 0) text += kDirectorySeparator;
    text += *content;
  }
  return text;
}

StatusOr<PreparedTokenIds> PrepareTokenIds(const std::string& tokenizer_path,
                                           const std::string& dataset_path,
                                           const std::string& cache_dir) {
  PreparedTokenIds prepared;
  // tokenizer.json is small (a few MB): hashing the bytes that are parsed keeps the key
  // true even if the file is replaced meanwhile.
  auto tokenizer_json = ReadFile(tokenizer_path);
  if (!tokenizer_json.ok()) return tokenizer_json.status();
  prepared.tokenizer_sha256 = Sha256Hex(*tokenizer_json);

  // A file is hashed by streaming it (a hit never holds it in memory); a directory's
  // text exists only once joined.
  std::optional<std::string> text;
  if (IsDirectory(dataset_path)) {
    auto joined = ReadDatasetText(dataset_path);
    if (!joined.ok()) return joined.status();
    text = std::move(joined).value();
    prepared.text_sha256 = Sha256Hex(*text);
  } else {
    auto text_sha = Sha256File(dataset_path);
    if (!text_sha.ok()) return text_sha.status();
    prepared.text_sha256 = *text_sha;
  }

  const std::string key = Sha256Hex("orch-token-ids/v" + std::to_string(kTokenIdsCacheVersion) +
                                    "\n" + prepared.tokenizer_sha256 + "\n" + prepared.text_sha256);
  const std::string base = (fs::path(cache_dir) / key).string();
  prepared.path = base + ".ids";
  const std::string meta_path = base + ".json";
  if (ReadCacheEntry(meta_path, &prepared)) {
    prepared.from_cache = true;
    return prepared;
  }

  std::error_code error;
  fs::create_directories(cache_dir, error);
  if (error) return Status::Error("cache directory " + cache_dir + ": " + error.message());
  if (!text) {
    auto content = ReadFile(dataset_path);
    if (!content.ok()) return content.status();
    text = std::move(content).value();
    // The file may have changed between hashing and reading; the key must describe
    // the text actually tokenized.
    if (Sha256Hex(*text) != prepared.text_sha256) {
      return Status::Error("dataset " + dataset_path + " changed while it was being prepared");
    }
  }
  auto tokenizer = Tokenizer::FromJson(*tokenizer_json, tokenizer_path);
  if (!tokenizer.ok()) return tokenizer.status();
  auto ids = tokenizer->Encode(*text);
  if (!ids.ok()) return ids.status().WithContext("dataset " + dataset_path);
  prepared.count = static_cast<int64_t>(ids->size());
  // The ids first, then the metadata that makes them a cache hit: a crash in between
  // leaves a miss, never a hit on a partial file.
  if (Status s = WriteTokenIdsFile(prepared.path, *ids); !s.ok()) return s;
  if (Status s =
          WriteFileAtomically(meta_path, MetadataJson(prepared, tokenizer_path, dataset_path));
      !s.ok()) {
    return s;
  }
  return prepared;
}

}  // namespace orch::text
