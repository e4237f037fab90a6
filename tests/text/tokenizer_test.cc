#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "base/token_ids.h"
#include "test_support.h"

namespace orch::text {
namespace {

using Json = nlohmann::json;
using testing::SmallTokenizerJson;
using Ids = std::vector<int32_t>;

Tokenizer Load(const Json& json) {
  auto tokenizer = Tokenizer::FromJson(json.dump(), "small.json");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  return std::move(tokenizer).value();
}

Ids EncodeOk(const Tokenizer& tokenizer, std::string_view text) {
  auto ids = tokenizer.Encode(text);
  EXPECT_TRUE(ids.ok()) << ids.status().message();
  return ids.ok() ? *ids : Ids{};
}

Json LoadFixture() {
  auto text = ReadFile(testing::FixturePath());
  EXPECT_TRUE(text.ok()) << text.status().message();
  return Json::parse(text.ok() ? *text : "{}");
}

#define SKIP_WITHOUT_SHARED_DATA()                                                         \
  if (!std::filesystem::exists(testing::NeoxTokenizerPath())) {                            \
    GTEST_SKIP() << "shared data absent: " << testing::NeoxTokenizerPath()                 \
                 << " (see ../shared/data/README.md); only the synthetic-tokenizer tests " \
                    "run";                                                                 \
  }

// --- Synthetic tokenizer: no shared data needed. ---

TEST(Tokenizer, EncodesWithMergesAndTheByteLevelSplit) {
  Tokenizer tokenizer = Load(SmallTokenizerJson());
  // "hello" is one token; " w" merges; the rest are single bytes.
  EXPECT_EQ(EncodeOk(tokenizer, "hello world"), (Ids{259, 260, 'o', 'r', 'l', 'd'}));
  EXPECT_EQ(EncodeOk(tokenizer, ""), Ids{});
}

TEST(Tokenizer, SpecialTokenIsMatchedInRawTextAndSplitsNormalization) {
  Tokenizer tokenizer = Load(SmallTokenizerJson());
  EXPECT_EQ(EncodeOk(tokenizer, "hello<|endoftext|>hello"), (Ids{259, 262, 259}));
  // NFC applies to each side separately: the accent after the token stays decomposed.
  EXPECT_EQ(EncodeOk(tokenizer, "e\xCC\x81<|endoftext|>\xCC\x81"),
            (Ids{0xC3, 0xA9, 262, 0xCC, 0x81}));
}

TEST(Tokenizer, NormalizesToNfcBeforeTheModel) {
  Tokenizer tokenizer = Load(SmallTokenizerJson());
  EXPECT_EQ(EncodeOk(tokenizer, "e\xCC\x81"), EncodeOk(tokenizer, "\xC3\xA9"));
  // Without the normalizer the decomposed form stays three bytes.
  Json json = SmallTokenizerJson();
  json["normalizer"] = nullptr;
  EXPECT_EQ(EncodeOk(Load(json), "e\xCC\x81"), (Ids{'e', 0xCC, 0x81}));
}

TEST(Tokenizer, NormalizedAddedTokenIsMatchedLeftmostLongest) {
  Tokenizer tokenizer = Load(SmallTokenizerJson());
  // "  " (id 263) is matched before pre-tokenization; a third space stays a space.
  EXPECT_EQ(EncodeOk(tokenizer, "a   b"), (Ids{'a', 263, ' ', 'b'}));
}

TEST(Tokenizer, AddPrefixSpaceAppliesToEveryPiece) {
  Json json = SmallTokenizerJson();
  json["pre_tokenizer"]["add_prefix_space"] = true;
  EXPECT_EQ(EncodeOk(Load(json), "world<|endoftext|>world"),
            (Ids{260, 'o', 'r', 'l', 'd', 262, 260, 'o', 'r', 'l', 'd'}));
}

TEST(Tokenizer, ReadsMergesAsStringsOrPairs) {
  Json json = SmallTokenizerJson();
  Json pairs = Json::array();
  for (const Json& merge : json["model"]["merges"]) {
    const std::string line = merge.get<std::string>();
    const size_t space = line.find(' ');
    pairs.push_back({line.substr(0, space), line.substr(space + 1)});
  }
  json["model"]["merges"] = pairs;
  EXPECT_EQ(EncodeOk(Load(json), "hello world"),
            EncodeOk(Load(SmallTokenizerJson()), "hello world"));
}

TEST(Tokenizer, InvalidUtf8IsAnErrorNamingTheByteOffset) {
  Tokenizer tokenizer = Load(SmallTokenizerJson());
  auto ids = tokenizer.Encode("hello \xFF world");
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("invalid UTF-8 at byte offset 6"), std::string::npos)
      << ids.status().message();
}

TEST(Tokenizer, RefusesUnsupportedFeaturesNamingTheFileAndTheField) {
  struct Case {
    const char* field;
    std::function<void(Json&)> edit;
  };
  const Case cases[] = {
      {"normalizer.type",
       [](Json& j) {
         j["normalizer"] = {{"type", "Lowercase"}};
       }},
      {"pre_tokenizer.type",
       [](Json& j) {
         j["pre_tokenizer"] = {{"type", "Metaspace"}};
       }},
      {"post_processor.type",
       [](Json& j) {
         j["post_processor"] = {{"type", "TemplateProcessing"}};
       }},
      {"truncation",
       [](Json& j) {
         j["truncation"] = {{"max_length", 8}};
       }},
      {"model.type", [](Json& j) { j["model"]["type"] = "WordPiece"; }},
      {"model.dropout", [](Json& j) { j["model"]["dropout"] = 0.1; }},
      {"model.byte_fallback", [](Json& j) { j["model"]["byte_fallback"] = true; }},
      {"model.continuing_subword_prefix",
       [](Json& j) { j["model"]["continuing_subword_prefix"] = "##"; }},
      {"model.merges[2]", [](Json& j) { j["model"]["merges"][2] = "a b c"; }},
      {"merges[0]", [](Json& j) { j["model"]["merges"][0] = "h q"; }},  // "hq" not in vocab
      {"added_tokens[0].id", [](Json& j) { j["added_tokens"][0]["id"] = 7; }},
      {"added_tokens[1].normalized", [](Json& j) { j["added_tokens"][1]["normalized"] = "yes"; }},
  };
  for (const Case& c : cases) {
    Json json = SmallTokenizerJson();
    c.edit(json);
    auto tokenizer = Tokenizer::FromJson(json.dump(), "odd/tokenizer.json");
    ASSERT_FALSE(tokenizer.ok()) << c.field;
    const std::string message = tokenizer.status().message();
    EXPECT_NE(message.find("odd/tokenizer.json"), std::string::npos) << message;
    EXPECT_NE(message.find(c.field), std::string::npos) << message;
  }
}

TEST(Tokenizer, MissingFileIsAnErrorNamingIt) {
  auto tokenizer = Tokenizer::FromFile("/nonexistent/tokenizer.json");
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_NE(tokenizer.status().message().find("/nonexistent/tokenizer.json"), std::string::npos);
}

TEST(Tokenizer, ConcurrentEncodesAgree) {
  Tokenizer tokenizer = Load(SmallTokenizerJson());
  const std::string text = "hello world  hello<|endoftext|>e\xCC\x81 aaa";
  const Ids expected = EncodeOk(tokenizer, text);
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) result = EncodeOk(tokenizer, text);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Ids& result : results) EXPECT_EQ(result, expected);
}

TEST(TokenizeFile, ReturnsTheIdsOfTheWholeFile) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.Path("t.json"), SmallTokenizerJson().dump()).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.Path("text.txt"), "hello\nhello").ok());
  auto ids = TokenizeFile(dir.Path("t.json"), dir.Path("text.txt"));
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(*ids, (Ids{259, '\n', 259}));
  ASSERT_TRUE(WriteFileAtomically(dir.Path("bad.txt"), "ok\xC3").ok());
  auto bad = TokenizeFile(dir.Path("t.json"), dir.Path("bad.txt"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.txt"), std::string::npos);
  EXPECT_NE(bad.status().message().find("byte offset 2"), std::string::npos);
}

// --- GPT-NeoX-20B against Hugging Face tokenizers (fixture ids, shared tokenizer). ---

TEST(NeoxTokenizer, MatchesHuggingFaceOnFixtureCases) {
  SKIP_WITHOUT_SHARED_DATA();
  const Json fixture = LoadFixture();
  auto tokenizer = Tokenizer::FromFile(testing::NeoxTokenizerPath());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  ASSERT_GT(fixture["cases"].size(), 300u);
  for (const Json& c : fixture["cases"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(EncodeOk(*tokenizer, text), c["ids"].get<Ids>())
        << c["name"].get<std::string>() << ": " << Json(text).dump();
  }
}

TEST(NeoxTokenizer, SharedTokenizerIsTheOneTheFixtureWasMadeFrom) {
  SKIP_WITHOUT_SHARED_DATA();
  auto sha = Sha256File(testing::NeoxTokenizerPath());
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(*sha, LoadFixture()["tokenizer_sha256"].get<std::string>());
}

TEST(NeoxTokenizer, MatchesHuggingFaceOnWikiText2Test) {
  SKIP_WITHOUT_SHARED_DATA();
  if (!std::filesystem::exists(testing::WikiText2TestPath())) {
    GTEST_SKIP() << "shared data absent: " << testing::WikiText2TestPath();
  }
  const Json expected = LoadFixture()["wikitext2_test"];
  auto ids = TokenizeFile(testing::NeoxTokenizerPath(), testing::WikiText2TestPath());
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(static_cast<int64_t>(ids->size()), expected["count"].get<int64_t>());
  EXPECT_EQ(ids->size(), 285831u);  // data/README.md
  EXPECT_EQ(Ids(ids->begin(), ids->begin() + 32), expected["first_ids"].get<Ids>());
  EXPECT_EQ(Sha256Hex(EncodeTokenIds(*ids)), expected["ids_sha256"].get<std::string>());
}

TEST(NeoxTokenizer, HonoursAddedTokenFlagsLikeHuggingFace) {
  SKIP_WITHOUT_SHARED_DATA();
  const Json extra = LoadFixture()["extra_added_tokens"];
  auto text = ReadFile(testing::NeoxTokenizerPath());
  ASSERT_TRUE(text.ok());
  Json json = Json::parse(*text);
  for (const Json& token : extra["added_tokens"]) json["added_tokens"].push_back(token);
  auto tokenizer = Tokenizer::FromJson(json.dump(), "neox+extra");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  for (const Json& c : extra["cases"]) {
    const std::string input = c["text"].get<std::string>();
    EXPECT_EQ(EncodeOk(*tokenizer, input), c["ids"].get<Ids>()) << Json(input).dump();
  }
}

}  // namespace
}  // namespace orch::text
