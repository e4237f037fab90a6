#include "text/added_vocabulary.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <unordered_set>

#include "text/nfc_normalizer.h"
#include "text/utf8.h"

namespace orch::text {
namespace {

// Rust regex's Unicode `\w` (tokenizers checks `\w$` / `^\w` for single_word tokens):
// Alphabetic, marks, decimal digits, connector punctuation and join controls.
bool IsWordChar(char32_t c) {
  const UChar32 u = static_cast<UChar32>(c);
  return u_hasBinaryProperty(u, UCHAR_ALPHABETIC) ||
         (U_GET_GC_MASK(u) & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0 ||
         u_hasBinaryProperty(u, UCHAR_JOIN_CONTROL);
}

// Rust regex's Unicode `\s`: the White_Space property.
bool IsSpace(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }

// The code point that ends at byte `end` of valid UTF-8 `text` (end > 0), and its start.
char32_t DecodeBefore(std::string_view text, size_t end, size_t* start) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  *start = pos;
  return DecodeUtf8(text, &pos);
}

}  // namespace

void AddedVocabulary::Insert(PatternTrie* trie, std::string_view pattern, int32_t token) {
  int32_t node = 0;
  for (unsigned char byte : pattern) {
    auto& children = trie->nodes[node].children;
    auto it = std::find_if(children.begin(), children.end(),
                           [byte](const auto& child) { return child.first == byte; });
    if (it != children.end()) {
      node = it->second;
    } else {
      const auto child = static_cast<int32_t>(trie->nodes.size());
      trie->nodes[node].children.emplace_back(byte, child);
      trie->nodes.emplace_back();
      node = child;
    }
  }
  trie->nodes[node].token = token;
  trie->first_byte[static_cast<unsigned char>(pattern.front())] = true;
}

StatusOr<AddedVocabulary> AddedVocabulary::Create(std::vector<AddedToken> tokens,
                                                  const NfcNormalizer* normalizer) {
  AddedVocabulary vocabulary;
  std::unordered_set<std::string> seen;
  for (AddedToken& token : tokens) {
    if (token.content.empty()) continue;
    if (Status s = ValidateUtf8(token.content); !s.ok()) {
      return s.WithContext("added token " + std::to_string(token.id));
    }
    // tokenizers keeps one entry per content (the later one wins in a way that depends
    // on its hash maps); rather than guess, such files are refused.
    if (!seen.insert(token.content).second) {
      return Status::Error("added token \"" + token.content + "\" appears more than once");
    }
    vocabulary.tokens_.push_back(std::move(token));
  }
  for (size_t i = 0; i < vocabulary.tokens_.size(); ++i) {
    const AddedToken& token = vocabulary.tokens_[i];
    if (token.normalized) {
      std::string pattern = token.content;
      if (normalizer != nullptr) {
        if (Status s = normalizer->Normalize(token.content, &pattern); !s.ok()) return s;
      }
      if (!pattern.empty()) Insert(&vocabulary.normalized_, pattern, static_cast<int32_t>(i));
    } else {
      Insert(&vocabulary.raw_, token.content, static_cast<int32_t>(i));
    }
  }
  return vocabulary;
}

void AddedVocabulary::Split(std::string_view text, Pass pass,
                            std::vector<TextSplit>* splits) const {
  const PatternTrie& trie = Trie(pass);
  const size_t size = text.size();
  size_t start_offset = 0;  // end of the text already assigned to a split
  size_t search = 0;        // where the next leftmost-longest search begins
  if (trie.nodes.size() > 1) {
    while (search < size) {
      // Leftmost-longest: the earliest position where any pattern matches, and there
      // the longest pattern.
      size_t start = search;
      int32_t token = -1;
      size_t stop = 0;
      for (; start < size; ++start) {
        if (!trie.first_byte[static_cast<unsigned char>(text[start])]) continue;
        int32_t node = 0;
        for (size_t pos = start; pos < size; ++pos) {
          const auto byte = static_cast<unsigned char>(text[pos]);
          const auto& children = trie.nodes[node].children;
          auto it = std::find_if(children.begin(), children.end(),
                                 [byte](const auto& child) { return child.first == byte; });
          if (it == children.end()) break;
          node = it->second;
          if (trie.nodes[node].token >= 0) {
            token = trie.nodes[node].token;
            stop = pos + 1;
          }
        }
        if (token >= 0) break;
      }
      if (token < 0) break;
      search = stop;  // the matcher resumes after the match, before any rstrip

      const AddedToken& added = tokens_[token];
      if (added.single_word) {
        size_t unused;
        const bool start_space = start == 0 || !IsWordChar(DecodeBefore(text, start, &unused));
        size_t after = stop;
        const bool stop_space = stop == size || !IsWordChar(DecodeUtf8(text, &after));
        if (!start_space || !stop_space) continue;
      }
      if (added.lstrip) {
        size_t new_start = start;
        while (new_start > 0) {
          size_t prev;
          if (!IsSpace(DecodeBefore(text, new_start, &prev))) break;
          new_start = prev;
        }
        // Whitespace already taken by the previous match stays with it.
        start = std::max(new_start, start_offset);
      }
      if (added.rstrip) {
        while (stop < size) {
          size_t next = stop;
          if (!IsSpace(DecodeUtf8(text, &next))) break;
          stop = next;
        }
      }
      if (start_offset < start) splits->push_back(TextSplit{start_offset, start, -1});
      splits->push_back(TextSplit{start, stop, added.id});
      start_offset = stop;
    }
  }
  if (start_offset != size || size == 0) splits->push_back(TextSplit{start_offset, size, -1});
}

}  // namespace orch::text
