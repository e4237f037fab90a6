#include "text/dataset.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "base/token_ids.h"
#include "text/tokenizer.h"
#include "test_support.h"

namespace orch::text {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

class PrepareTokenIdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokenizer_ = dir_.Path("tokenizer.json");
    ASSERT_TRUE(WriteFileAtomically(tokenizer_, testing::SmallTokenizerJson().dump()).ok());
    cache_ = dir_.Path("cache/tokens");
  }
  std::string WriteText(const std::string& name, const std::string& text) {
    EXPECT_TRUE(WriteFileAtomically(dir_.Path(name), text).ok());
    return dir_.Path(name);
  }

  TempDir dir_;
  std::string tokenizer_;
  std::string cache_;
};

TEST_F(PrepareTokenIdsTest, WritesTheTokenizersIdsAndTheInputHashes) {
  const std::string text = "hello world<|endoftext|>hello";
  auto prepared = PrepareTokenIds(tokenizer_, WriteText("d.txt", text), cache_);
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  EXPECT_FALSE(prepared->from_cache);
  EXPECT_EQ(fs::path(prepared->path).parent_path(), fs::path(cache_));
  EXPECT_EQ(fs::path(prepared->path).extension(), ".ids");

  auto tokenizer = Tokenizer::FromFile(tokenizer_);
  ASSERT_TRUE(tokenizer.ok());
  auto expected = tokenizer->Encode(text);
  ASSERT_TRUE(expected.ok());
  auto ids = ReadTokenIdsFile(prepared->path);
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(*ids, *expected);
  EXPECT_EQ(prepared->count, static_cast<int64_t>(expected->size()));
  EXPECT_EQ(prepared->text_sha256, Sha256Hex(text));
  EXPECT_EQ(prepared->tokenizer_sha256, *Sha256File(tokenizer_));
}

TEST_F(PrepareTokenIdsTest, SecondCallWithTheSameInputsReadsTheCache) {
  const std::string dataset = WriteText("d.txt", "hello hello hello");
  auto first = PrepareTokenIds(tokenizer_, dataset, cache_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_FALSE(first->from_cache);
  const auto written = fs::last_write_time(first->path);

  auto second = PrepareTokenIds(tokenizer_, dataset, cache_);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->path, first->path);
  EXPECT_EQ(second->count, first->count);
  EXPECT_EQ(fs::last_write_time(second->path), written);  // not rewritten
}

TEST_F(PrepareTokenIdsTest, DifferentTextGivesADifferentFile) {
  auto a = PrepareTokenIds(tokenizer_, WriteText("a.txt", "hello"), cache_);
  auto b = PrepareTokenIds(tokenizer_, WriteText("b.txt", "hello world"), cache_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->path, b->path);
  EXPECT_NE(a->text_sha256, b->text_sha256);
  EXPECT_FALSE(b->from_cache);
  EXPECT_EQ(*ReadTokenIdsFile(a->path), (std::vector<int32_t>{259}));
}

TEST_F(PrepareTokenIdsTest, SameTextUnderAnotherNameHitsTheCache) {
  auto a = PrepareTokenIds(tokenizer_, WriteText("a.txt", "hello"), cache_);
  auto b = PrepareTokenIds(tokenizer_, WriteText("copy.txt", "hello"), cache_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->path, b->path);
  EXPECT_TRUE(b->from_cache);
}

TEST_F(PrepareTokenIdsTest, DifferentTokenizerGivesADifferentFile) {
  const std::string dataset = WriteText("d.txt", "hello world");
  auto a = PrepareTokenIds(tokenizer_, dataset, cache_);
  auto json = testing::SmallTokenizerJson();
  json["normalizer"] = nullptr;
  ASSERT_TRUE(WriteFileAtomically(dir_.Path("other.json"), json.dump()).ok());
  auto b = PrepareTokenIds(dir_.Path("other.json"), dataset, cache_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->path, b->path);
  EXPECT_FALSE(b->from_cache);
}

TEST_F(PrepareTokenIdsTest, TornCacheEntryIsRebuilt) {
  const std::string dataset = WriteText("d.txt", "hello world hello");
  auto first = PrepareTokenIds(tokenizer_, dataset, cache_);
  ASSERT_TRUE(first.ok());
  const auto good = ReadTokenIdsFile(first->path);
  ASSERT_TRUE(WriteFileAtomically(first->path, "\x01\x00\x00\x00").ok());  // wrong size
  auto second = PrepareTokenIds(tokenizer_, dataset, cache_);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->from_cache);
  EXPECT_EQ(*ReadTokenIdsFile(second->path), *good);
}

TEST_F(PrepareTokenIdsTest, InvalidUtf8DatasetIsAnErrorNamingFileAndOffset) {
  const std::string dataset = WriteText("bad.txt", "hello\xC0\x80");
  auto prepared = PrepareTokenIds(tokenizer_, dataset, cache_);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.status().message().find(dataset), std::string::npos);
  EXPECT_NE(prepared.status().message().find("byte offset 5"), std::string::npos);
}

TEST_F(PrepareTokenIdsTest, DirectoryDatasetIsItsTxtFilesSortedAndJoined) {
  fs::create_directories(dir_.Path("corpus"));
  WriteText("corpus/b.txt", "world");
  WriteText("corpus/a.txt", "hello");
  WriteText("corpus/c.md", "ignored");
  auto text = ReadDatasetText(dir_.Path("corpus"));
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "hello\n\nworld");
  auto prepared = PrepareTokenIds(tokenizer_, dir_.Path("corpus"), cache_);
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  EXPECT_EQ(prepared->text_sha256, Sha256Hex("hello\n\nworld"));
}

TEST_F(PrepareTokenIdsTest, DirectoryWithoutTxtFilesIsAnError) {
  fs::create_directories(dir_.Path("empty"));
  auto prepared = PrepareTokenIds(tokenizer_, dir_.Path("empty"), cache_);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.status().message().find("no .txt files"), std::string::npos);
}

TEST(PrepareTokenIdsNeox, WikiText2FileEqualsHuggingFaceIds) {
  const std::string tokenizer = testing::NeoxTokenizerPath();
  const std::string dataset = testing::WikiText2TestPath();
  if (!fs::exists(tokenizer) || !fs::exists(dataset)) {
    GTEST_SKIP() << "shared data absent: " << tokenizer << " / " << dataset;
  }
  auto fixture_text = ReadFile(testing::FixturePath());
  ASSERT_TRUE(fixture_text.ok());
  const auto expected = nlohmann::json::parse(*fixture_text)["wikitext2_test"];
  TempDir dir;
  auto prepared = PrepareTokenIds(tokenizer, dataset, dir.Path("cache"));
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  EXPECT_EQ(prepared->count, expected["count"].get<int64_t>());
  EXPECT_EQ(prepared->text_sha256, expected["text_sha256"].get<std::string>());
  EXPECT_EQ(*Sha256File(prepared->path), expected["ids_sha256"].get<std::string>());
}

}  // namespace
}  // namespace orch::text
