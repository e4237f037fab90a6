// Helpers shared by the orch_text tests: a small synthetic tokenizer.json (so most tests
// need no shared data), fresh temporary directories, and the shared-data paths.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "text/byte_level.h"

namespace orch::text::testing {

inline std::string SharedData(const std::string& relative) {
  return std::string(ORCH_SHARED_DATA) + "/" + relative;
}
inline std::string NeoxTokenizerPath() {
  return SharedData("tokenizers/gpt-neox-20b/tokenizer.json");
}
inline std::string WikiText2TestPath() { return SharedData("wikitext-2-raw/wiki.test.raw"); }
inline std::string FixturePath() {
  return std::string(ORCH_TEST_FIXTURES) + "/tokenizer/cases.json";
}

// A directory of its own under the test temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("orch_text_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Byte b has id b. Merges, in rank order: h+e, l+l, he+ll, hell+o, Ġ+w, a+a. Added tokens:
// <|endoftext|> (raw text, id 262) and a two-space run (normalized, id 263).
inline nlohmann::json SmallTokenizerJson() {
  const auto& alphabet = ByteLevelAlphabet();
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[alphabet[b]] = b;
  const std::string space = alphabet[' '];  // "Ġ"
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab["hello"] = 259;
  vocab[space + "w"] = 260;
  vocab["aa"] = 261;
  nlohmann::json merges = {"h e", "l l", "he ll", "hell o", space + " w", "a a"};
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       {{{"id", 262},
         {"content", "<|endoftext|>"},
         {"single_word", false},
         {"lstrip", false},
         {"rstrip", false},
         {"normalized", false},
         {"special", true}},
        {{"id", 263},
         {"content", "  "},
         {"single_word", false},
         {"lstrip", false},
         {"rstrip", false},
         {"normalized", true},
         {"special", false}}}},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "ByteLevel"},
        {"add_prefix_space", false},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"vocab", vocab},
        {"merges", merges}}},
  };
}

}  // namespace orch::text::testing
