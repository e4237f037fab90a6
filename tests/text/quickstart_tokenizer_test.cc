// orch's tokenizer against Hugging Face tokenizers on the quickstart model's own byte-level
// BPE (models/quickstart/tokenizer.json, 2048 ids, trained by tools/quickstart_model/).
// Expected ids: tests/fixtures/quickstart_tokenizer/cases.json
// (tools/quickstart_model/make_tokenizer_fixture.py). Needs nothing outside the repository,
// except the held-out text check, which runs when ORCH_QUICKSTART_HELDOUT names the file
// extract_text.py wrote; without it the test runs extract_text.py itself (python3 and the
// Debian man pages needed; it skips, saying so, without them).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/sha256.h"
#include "base/token_ids.h"
#include "text/tokenizer.h"
#include "test_support.h"

namespace orch::text {
namespace {

using Json = nlohmann::json;
using Ids = std::vector<int32_t>;

std::string QuickstartTokenizerPath() {
  return std::string(ORCH_TEST_FIXTURES) + "/../../models/quickstart/tokenizer.json";
}

Json LoadQuickstartFixture() {
  auto text = ReadFile(std::string(ORCH_TEST_FIXTURES) + "/quickstart_tokenizer/cases.json");
  EXPECT_TRUE(text.ok()) << text.status().message();
  return Json::parse(text.ok() ? *text : "{}");
}

TEST(QuickstartTokenizer, IsTheOneTheFixtureWasMadeFrom) {
  auto sha = Sha256File(QuickstartTokenizerPath());
  ASSERT_TRUE(sha.ok()) << sha.status().message();
  EXPECT_EQ(*sha, LoadQuickstartFixture()["tokenizer_sha256"].get<std::string>());
}

TEST(QuickstartTokenizer, MatchesHuggingFaceOnFixtureCases) {
  const Json fixture = LoadQuickstartFixture();
  auto tokenizer = Tokenizer::FromFile(QuickstartTokenizerPath());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  ASSERT_GT(fixture["cases"].size(), 300u);
  for (const Json& c : fixture["cases"]) {
    const std::string text = c["text"].get<std::string>();
    auto ids = tokenizer->Encode(text);
    ASSERT_TRUE(ids.ok()) << ids.status().message();
    EXPECT_EQ(*ids, c["ids"].get<Ids>()) << c["name"].get<std::string>() << ": " << Json(text).dump();
  }
}

TEST(QuickstartTokenizer, MatchesHuggingFaceOnTheHeldOutText) {
  testing::TempDir dir;
  std::string path_storage;
  const char* path = std::getenv("ORCH_QUICKSTART_HELDOUT");
  if (path == nullptr) {
    path_storage = dir.Path("heldout.txt");
    const std::string cmd = "python3 '" + std::string(ORCH_TEST_FIXTURES) +
                            "/../../tools/quickstart_model/extract_text.py' --heldout '" +
                            path_storage + "' > '" + dir.Path("log") + "' 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      auto log = ReadFile(dir.Path("log"));
      GTEST_SKIP() << "cannot extract the held-out text (python3 and the Debian packages "
                      "manpages, manpages-dev needed; scripts/install-deps.sh installs them): "
                   << (log.ok() ? *log : "");
    }
    path = path_storage.c_str();
  }
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "ORCH_QUICKSTART_HELDOUT: no file " << path;
  const Json expected = LoadQuickstartFixture()["heldout"];
  auto sha = Sha256File(path);
  ASSERT_TRUE(sha.ok());
  if (*sha != expected["text_sha256"].get<std::string>()) {
    GTEST_SKIP() << path << " is not the text the fixture was made from (other man-pages "
                 << "version than " << expected["packages"].dump() << ")";
  }
  auto ids = TokenizeFile(QuickstartTokenizerPath(), path);
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(static_cast<int64_t>(ids->size()), expected["count"].get<int64_t>());
  EXPECT_EQ(Ids(ids->begin(), ids->begin() + 32), expected["first_ids"].get<Ids>());
  EXPECT_EQ(Sha256Hex(EncodeTokenIds(*ids)), expected["ids_sha256"].get<std::string>());
}

}  // namespace
}  // namespace orch::text
