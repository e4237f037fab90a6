// Added tokens (tokenizer.json "added_tokens": special tokens such as <|endoftext|> and
// extra vocabulary such as whitespace runs) and how they are found in text before the
// model sees it, mirroring Hugging Face tokenizers' AddedVocabulary: leftmost-longest
// matching, one pass over the raw text for tokens with normalized=false and one over
// each normalized piece for tokens with normalized=true, honouring single_word, lstrip
// and rstrip. Immutable after Create(): Split() is safe from several threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace orch::text {

class NfcNormalizer;

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool single_word = false;  // match only when not inside a word (\w on either side)
  bool lstrip = false;       // the match absorbs whitespace to its left
  bool rstrip = false;       // the match absorbs whitespace to its right
  bool normalized = true;    // matched in normalized text, against its normalized content
  bool special = false;      // only affects decoding, which orch does not do
};

// A piece of the text: [begin, end) bytes, and the added token's id or -1 for text
// that still goes through normalization, pre-tokenization and the model.
struct TextSplit {
  size_t begin;
  size_t end;
  int32_t id;
};

class AddedVocabulary {
 public:
  // `normalizer` (may be null: no normalizer) gives the form that normalized tokens are
  // matched in. Tokens with empty content are ignored, as tokenizers does.
  static StatusOr<AddedVocabulary> Create(std::vector<AddedToken> tokens,
                                          const NfcNormalizer* normalizer);

  // Appends the splits of `text` to `*splits`, covering all of it in order (the
  // splits of an rstrip token may overlap the next match, as in tokenizers). The raw
  // pass uses normalized=false tokens, the normalized pass normalized=true ones.
  enum class Pass { kRaw, kNormalized };
  void Split(std::string_view text, Pass pass, std::vector<TextSplit>* splits) const;

 private:
  // A byte trie; the leftmost-longest match is found by walking it from each position.
  struct TrieNode {
    std::vector<std::pair<unsigned char, int32_t>> children;
    int32_t token = -1;  // index into tokens_ when a pattern ends here
  };
  struct PatternTrie {
    std::vector<TrieNode> nodes{TrieNode{}};
    bool first_byte[256] = {};
  };

  const PatternTrie& Trie(Pass pass) const { return pass == Pass::kRaw ? raw_ : normalized_; }
  static void Insert(PatternTrie* trie, std::string_view pattern, int32_t token);

  std::vector<AddedToken> tokens_;
  PatternTrie raw_;
  PatternTrie normalized_;
};

}  // namespace orch::text
