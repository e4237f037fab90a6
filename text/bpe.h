// The BPE model of a byte-level tokenizer: turns one pre-tokenized word (raw bytes) into
// token ids by applying merges in rank order, exactly as Hugging Face tokenizers'
// `BPE::merge_word` does (same priority queue, same tie-breaking by position).
// Immutable after Create(): EncodeWord() is safe to call from several threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"

namespace orch::text {

struct BpeConfig {
  // Token (spelled in the byte-level alphabet, see byte_level.h) -> id.
  std::unordered_map<std::string, int32_t> vocab;
  // Merge rules in rank order (index = rank): the pair of tokens to join.
  std::vector<std::pair<std::string, std::string>> merges;
  std::optional<std::string> unk_token;  // bytes absent from the vocab map to this
  bool fuse_unk = false;                 // consecutive unknown bytes give one unk
  bool ignore_merges = false;            // a word that is itself a token is not merged
};

class BpeModel {
 public:
  // Fails, naming the merge's index, when a merge refers to a token missing from the
  // vocabulary, or when the unk token is not in it.
  static StatusOr<BpeModel> Create(BpeConfig config);

  // Appends the ids of `word` (raw bytes, one pre-tokenized word) to `*ids`.
  void EncodeWord(std::string_view word, std::vector<int32_t>* ids) const;

  // The id of a token spelled in the byte-level alphabet, if it is in the vocabulary.
  std::optional<int32_t> TokenToId(std::string_view token) const;
  size_t vocab_size() const { return vocab_.size(); }

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  BpeModel() = default;
  const Merge* FindMerge(int32_t left, int32_t right) const;

  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> vocab_;
  // Key: left id in the high 32 bits, right id in the low 32 bits.
  std::unordered_map<uint64_t, Merge> merges_;
  std::array<int32_t, 256> byte_ids_{};  // id of each single byte; -1 when not in vocab
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
};

}  // namespace orch::text
