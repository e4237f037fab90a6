#include "text/bpe.h"

#include <gtest/gtest.h>

#include "text/byte_level.h"

namespace orch::text {
namespace {

// Vocabulary: every byte b with id b, plus the tokens given.
BpeConfig ByteVocab(std::vector<std::pair<std::string, int32_t>> extra,
                    std::vector<std::pair<std::string, std::string>> merges) {
  BpeConfig config;
  for (int b = 0; b < 256; ++b) config.vocab[ByteLevelAlphabet()[b]] = b;
  for (auto& [token, id] : extra) config.vocab[token] = id;
  config.merges = std::move(merges);
  return config;
}

std::vector<int32_t> Encode(const BpeModel& model, std::string_view word) {
  std::vector<int32_t> ids;
  model.EncodeWord(word, &ids);
  return ids;
}

TEST(Bpe, AppliesMergesInRankOrder) {
  // "b c" outranks "a b": "abc" must become a + bc, not ab + c.
  auto model = BpeModel::Create(ByteVocab({{"bc", 300}, {"ab", 301}}, {{"b", "c"}, {"a", "b"}}));
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(Encode(*model, "abc"), (std::vector<int32_t>{'a', 300}));
}

TEST(Bpe, EqualRanksMergeTheLeftmostPairFirst) {
  auto model = BpeModel::Create(ByteVocab({{"aa", 300}}, {{"a", "a"}}));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(Encode(*model, "aaa"), (std::vector<int32_t>{300, 'a'}));
  EXPECT_EQ(Encode(*model, "aaaa"), (std::vector<int32_t>{300, 300}));
}

TEST(Bpe, MergesChainIntoLongerTokens) {
  auto model = BpeModel::Create(ByteVocab({{"he", 300}, {"ll", 301}, {"hell", 302}, {"hello", 303}},
                                          {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}}));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(Encode(*model, "hello"), (std::vector<int32_t>{303}));
  EXPECT_EQ(Encode(*model, "hellhello"), (std::vector<int32_t>{302, 303}));
}

TEST(Bpe, BytesAreSpelledInTheByteLevelAlphabet) {
  // Space is "Ġ" (U+0120) in the vocabulary, so the merge "Ġ w" joins a raw " w".
  const std::string space = ByteLevelAlphabet()[' '];
  EXPECT_EQ(space, "\xC4\xA0");
  auto model = BpeModel::Create(ByteVocab({{space + "w", 300}}, {{space, "w"}}));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(Encode(*model, " w"), (std::vector<int32_t>{300}));
  EXPECT_EQ(Encode(*model, "\xC3\xA9"), (std::vector<int32_t>{0xC3, 0xA9}));
}

TEST(Bpe, MergeOfATokenMissingFromTheVocabularyIsAnErrorNamingTheMerge) {
  auto model = BpeModel::Create(ByteVocab({}, {{"a", "b"}}));  // "ab" is not in the vocab
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("merges[0]"), std::string::npos)
      << model.status().message();
}

TEST(Bpe, IgnoreMergesKeepsAWordThatIsAToken) {
  // "abc" is a token but no merge path reaches it; with ignore_merges it is used whole.
  BpeConfig config = ByteVocab({{"abc", 300}, {"ab", 301}}, {{"a", "b"}});
  auto merged = BpeModel::Create(config);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(Encode(*merged, "abc"), (std::vector<int32_t>{301, 'c'}));
  config.ignore_merges = true;
  auto whole = BpeModel::Create(config);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(Encode(*whole, "abc"), (std::vector<int32_t>{300}));
}

}  // namespace
}  // namespace orch::text
