// A byte-level BPE tokenizer loaded from a Hugging Face `tokenizer.json` (e.g.
// GPT-NeoX-20B's). Encode() returns the ids that `Tokenizer.from_file(path).encode(text)
// .ids` of Hugging Face tokenizers returns; features of tokenizer.json that would change
// those ids and are not implemented are refused at load time, naming the field.
// Immutable after loading: Encode() is safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace orch::text {

class Tokenizer {
 public:
  // Reads and validates `path`; errors name the file and the offending field.
  static StatusOr<Tokenizer> FromFile(const std::string& path);
  // Same, from the JSON text; `source` names it in error messages.
  static StatusOr<Tokenizer> FromJson(std::string_view json, const std::string& source);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of `text` (any UTF-8; no special tokens are added at either end). Invalid
  // UTF-8 is an error naming the byte offset. Words are BPE-encoded once per call and
  // then looked up, so long texts cost little more than their distinct words.
  StatusOr<std::vector<int32_t>> Encode(std::string_view text) const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The ids of the whole content of `text_path` (used as is: no newline or BOM handling),
// with the tokenizer at `tokenizer_path`. Errors name the file. What `orch tokenize` runs.
StatusOr<std::vector<int32_t>> TokenizeFile(const std::string& tokenizer_path,
                                            const std::string& text_path);

}  // namespace orch::text
