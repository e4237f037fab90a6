#include "text/byte_level.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/uniset.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <utility>

namespace orch::text {
namespace {

std::string EncodeUtf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

// Hugging Face's pattern is `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|
// \s+(?!\S)|\s+`, compiled by Oniguruma. Two differences from PCRE2 are removed by
// spelling the classes out as code point ranges taken from ICU:
//  - Oniguruma's Unicode `\s` is U+0009-U+000D, U+0085 and the Z categories; PCRE2's
//    `\s` under PCRE2_UCP leaves out U+0085.
//  - PCRE2 10.42 (Debian 12) has Unicode 14 tables, ICU 72 has Unicode 15.0, so letters
//    and digits added in 15.0 are classified as Oniguruma classifies them.
constexpr char kWhitespaceSet[] = "[\\u0009-\\u000D\\u0085[:Z:]]";
constexpr char kLetterSet[] = "[:L:]";
constexpr char kNumberSet[] = "[:N:]";

// The ranges of an ICU set as the body of a PCRE2 character class ("\x{41}-\x{5A}...").
StatusOr<std::string> ClassBody(const char* icu_pattern) {
  UErrorCode error = U_ZERO_ERROR;
  icu::UnicodeSet set(icu::UnicodeString(icu_pattern), error);
  if (U_FAILURE(error)) {
    return Status::Error(std::string("ICU set ") + icu_pattern + ": " + u_errorName(error));
  }
  std::string body;
  char buffer[40];
  for (int32_t i = 0; i < set.getRangeCount(); ++i) {
    const UChar32 first = set.getRangeStart(i);
    const UChar32 last = set.getRangeEnd(i);
    if (first == last) {
      std::snprintf(buffer, sizeof(buffer), "\\x{%X}", first);
    } else {
      std::snprintf(buffer, sizeof(buffer), "\\x{%X}-\\x{%X}", first, last);
    }
    body += buffer;
  }
  return body;
}

StatusOr<std::string> Gpt2SplitPattern() {
  auto ws = ClassBody(kWhitespaceSet);
  if (!ws.ok()) return ws.status();
  auto letters = ClassBody(kLetterSet);
  if (!letters.ok()) return letters.status();
  auto numbers = ClassBody(kNumberSet);
  if (!numbers.ok()) return numbers.status();
  const std::string l = "[" + *letters + "]";
  const std::string n = "[" + *numbers + "]";
  return "'s|'t|'re|'ve|'m|'ll|'d| ?" + l + "+| ?" + n + "+| ?[^" + *ws + *letters + *numbers +
         "]+|[" + *ws + "]+(?![^" + *ws + "])|[" + *ws + "]+";
}

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

const std::array<std::string, 256>& ByteLevelAlphabet() {
  // GPT-2's bytes_to_unicode(): printable Latin-1 bytes keep their code point, the other
  // 68 bytes get U+0100 + n in byte order.
  static const std::array<std::string, 256> kAlphabet = [] {
    std::array<std::string, 256> alphabet;
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      alphabet[b] = EncodeUtf8(printable(b) ? static_cast<char32_t>(b) : next++);
    }
    return alphabet;
  }();
  return kAlphabet;
}

struct ByteLevelPreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, std::unique_ptr<Regex> regex)
    : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}
ByteLevelPreTokenizer::ByteLevelPreTokenizer(ByteLevelPreTokenizer&&) noexcept = default;
ByteLevelPreTokenizer& ByteLevelPreTokenizer::operator=(ByteLevelPreTokenizer&&) noexcept = default;
ByteLevelPreTokenizer::~ByteLevelPreTokenizer() = default;

StatusOr<ByteLevelPreTokenizer> ByteLevelPreTokenizer::Create(bool add_prefix_space,
                                                              bool use_regex) {
  if (!use_regex) return ByteLevelPreTokenizer(add_prefix_space, nullptr);
  auto pattern_or = Gpt2SplitPattern();
  if (!pattern_or.ok()) return pattern_or.status();
  const std::string& pattern = *pattern_or;
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  auto regex = std::make_unique<Regex>();
  // PCRE2_UCP is kept although the classes are explicit, so that nothing in the pattern
  // falls back to ASCII-only semantics.
  regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  if (regex->code == nullptr) {
    return Status::Error("compiling the GPT-2 split pattern: " + Pcre2Message(error));
  }
  // JIT is an optimisation only: when it is unavailable the interpreter gives the same
  // matches, so its failure is not an error.
  (void)pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);
  return ByteLevelPreTokenizer(add_prefix_space, std::move(regex));
}

Status ByteLevelPreTokenizer::Split(std::string_view piece, std::string* scratch,
                                    std::vector<std::string_view>* words) const {
  if (piece.empty()) return Status::Ok();
  std::string_view subject = piece;
  if (add_prefix_space_ && piece.front() != ' ') {
    scratch->assign(" ");
    scratch->append(piece);
    subject = *scratch;
  }
  if (regex_ == nullptr) {
    words->push_back(subject);
    return Status::Ok();
  }
  // Match data holds per-call state, so it is created here rather than shared.
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(regex_->code, nullptr), &pcre2_match_data_free);
  if (match == nullptr) return Status::Error("out of memory creating PCRE2 match data");
  const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t start = 0;
  size_t emitted = 0;  // end of the last emitted word
  while (start < subject.size()) {
    const int rc = pcre2_match(regex_->code, data, subject.size(), start, PCRE2_NO_UTF_CHECK,
                               match.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return Status::Error("GPT-2 split pattern: " + Pcre2Message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    // Hugging Face keeps unmatched text as its own piece (SplitDelimiterBehavior::
    // Isolated); the pattern covers every character, so this is only a safeguard.
    if (begin > emitted) words->push_back(subject.substr(emitted, begin - emitted));
    if (end == begin) {
      // Cannot happen with this pattern (every branch consumes a character); step over
      // one code point so a future pattern change cannot loop forever.
      start = end + 1;
      while (start < subject.size() &&
             (static_cast<unsigned char>(subject[start]) & 0xC0) == 0x80) {
        ++start;
      }
      continue;
    }
    words->push_back(subject.substr(begin, end - begin));
    emitted = end;
    start = end;
  }
  if (emitted < subject.size()) words->push_back(subject.substr(emitted));
  return Status::Ok();
}

}  // namespace orch::text
