#include "text/nfc_normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/errorcode.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uniset.h>
#include <unicode/unistr.h>

#include <cstdint>
#include <memory>

namespace orch::text {

namespace {

// Hugging Face tokenizers normalizes with the unicode-normalization-alignments crate,
// whose tables are those of Unicode 9.0 (measured: every combining mark assigned in 9.0
// or before is reordered, none assigned later is). ICU's FilteredNormalizer2 restricted
// to the characters assigned by 9.0 is exactly Unicode 9.0 NFC: later characters pass
// through unchanged as starters, which is what they are in 9.0 tables, and Unicode's
// stability policy freezes the decompositions and combining classes of older ones.
constexpr char kUnicodeVersionFilter[] = "[:age=9.0:]";

struct FilteredNfc {
  icu::UnicodeSet assigned;
  std::unique_ptr<icu::FilteredNormalizer2> normalizer;
  UErrorCode error = U_ZERO_ERROR;
};

// Built once per process and never destroyed (ICU's own singletons live as long).
const FilteredNfc& Unicode9Nfc() {
  static const FilteredNfc* const kNfc = [] {
    auto* filtered = new FilteredNfc;
    const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(filtered->error);
    if (U_FAILURE(filtered->error)) return filtered;
    filtered->assigned.applyPattern(icu::UnicodeString(kUnicodeVersionFilter), filtered->error);
    if (U_FAILURE(filtered->error)) return filtered;
    filtered->assigned.freeze();
    filtered->normalizer = std::make_unique<icu::FilteredNormalizer2>(*nfc, filtered->assigned);
    return filtered;
  }();
  return *kNfc;
}

}  // namespace

StatusOr<NfcNormalizer> NfcNormalizer::Create() {
  const FilteredNfc& nfc = Unicode9Nfc();
  if (U_FAILURE(nfc.error) || nfc.normalizer == nullptr) {
    return Status::Error(std::string("loading ICU NFC data: ") + u_errorName(nfc.error));
  }
  return NfcNormalizer(static_cast<const icu::Normalizer2*>(nfc.normalizer.get()));
}

Status NfcNormalizer::Normalize(std::string_view text, std::string* out) const {
  out->clear();
  if (text.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::Error("NFC normalization: text piece larger than 2 GiB");
  }
  // Most text is ASCII or already NFC; the quick check avoids rebuilding it.
  bool ascii = true;
  for (unsigned char c : text) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  const auto* nfc = static_cast<const icu::Normalizer2*>(nfc_);
  UErrorCode error = U_ZERO_ERROR;
  const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  if (ascii || nfc->isNormalizedUTF8(piece, error)) {
    if (U_SUCCESS(error)) {
      out->assign(text);
      return Status::Ok();
    }
  }
  error = U_ZERO_ERROR;
  icu::StringByteSink<std::string> sink(out);
  nfc->normalizeUTF8(0, piece, sink, nullptr, error);
  if (U_FAILURE(error)) {
    return Status::Error(std::string("NFC normalization failed: ") + u_errorName(error));
  }
  return Status::Ok();
}

}  // namespace orch::text
