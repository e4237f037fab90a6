// The ByteLevel pre-tokenizer of GPT-2-style tokenizers: splits normalized text into
// words with the GPT-2 pattern (via PCRE2, mirroring the Oniguruma semantics Hugging Face
// tokenizers uses) and defines the byte <-> printable-character alphabet of the vocabulary.
// Immutable after Create(): Split() is safe to call from several threads at once.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace orch::text {

// The GPT-2 byte alphabet: byte b is spelled in vocabulary entries by the UTF-8 encoding
// of this character (printable bytes map to themselves, the rest to U+0100 and up).
const std::array<std::string, 256>& ByteLevelAlphabet();

class ByteLevelPreTokenizer {
 public:
  // `add_prefix_space`: prepend ' ' to every piece that does not start with one;
  // `use_regex`: split with the GPT-2 pattern (otherwise the piece is one word).
  static StatusOr<ByteLevelPreTokenizer> Create(bool add_prefix_space, bool use_regex);

  ByteLevelPreTokenizer(ByteLevelPreTokenizer&&) noexcept;
  ByteLevelPreTokenizer& operator=(ByteLevelPreTokenizer&&) noexcept;
  ~ByteLevelPreTokenizer();

  // Appends the words of `piece` (valid UTF-8) to `*words`, in order, as raw bytes: the
  // byte-level alphabet is applied by the BPE model. The views point into `piece` or into
  // `*scratch`, which must outlive them and not be modified while they are used.
  Status Split(std::string_view piece, std::string* scratch,
               std::vector<std::string_view>* words) const;

 private:
  struct Regex;
  ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex);

  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;  // null when use_regex is false
};

}  // namespace orch::text
