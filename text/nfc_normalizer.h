// Unicode NFC normalization of UTF-8 text (the tokenizer.json "NFC" normalizer) as
// Hugging Face tokenizers does it, i.e. with Unicode 9.0 data, done by ICU so no Unicode
// tables live in orch. Input must be valid UTF-8 (see utf8.h). The normalizer is
// immutable after construction: Normalize() is safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace orch::text {

class NfcNormalizer {
 public:
  // Fails only when ICU's normalization data cannot be loaded.
  static StatusOr<NfcNormalizer> Create();

  // Writes the NFC form of `text` to `*out` (replacing its content).
  Status Normalize(std::string_view text, std::string* out) const;

 private:
  explicit NfcNormalizer(const void* nfc) : nfc_(nfc) {}
  // An icu::Normalizer2, owned by ICU and alive for the whole process; opaque so that
  // ICU's headers stay out of this one.
  const void* nfc_;
};

}  // namespace orch::text
